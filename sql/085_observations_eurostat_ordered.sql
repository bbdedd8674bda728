-- Purpose: the Eurostat observations as observations shows them, with
--          sort_key, read from eurostat_cells_ordered: a scan of that
--          table joined to its series, periods and flags, which a single
--          thread returns in the table's (key) order.
-- Inputs:  eurostat_cells_ordered, eurostat_series, raw_eurostat_periods,
--          raw_eurostat_flags.
-- Grain:   as observations_eurostat.
CREATE OR REPLACE VIEW observations_eurostat_ordered AS
SELECT
    s.dataset,
    s.indicator,
    s.reporter,
    s.partner,
    'citizenship' AS partner_role,
    '' AS location,
    p.period,
    p.year,
    p.month,
    s.sex,
    s.age,
    s.applicant_type,
    s.decision,
    c.value,
    f.flags,
    s.release,
    c.coverage IS NULL AS period_complete,
    period_label(p.period, c.coverage) AS period_label,
    c.sort_key
FROM eurostat_cells_ordered c
JOIN eurostat_series s USING (series_id)
JOIN raw_eurostat_periods p USING (period_id)
JOIN raw_eurostat_flags f USING (flag_id);
