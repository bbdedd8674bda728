-- Purpose: Eurostat asylum applicants and first-instance decisions as
--          observations, values and flags exactly as published (':' is NULL,
--          never 0). A view: the cells stay stored once, narrow, in
--          raw_eurostat_cells, and are joined to their series, period and
--          flags when read.
-- Inputs:  raw_eurostat_cells, eurostat_series, raw_eurostat_periods,
--          raw_eurostat_flags, eurostat_superseded.
-- Grain:   one row per dataset, indicator, reporting country, citizenship,
--          period, sex, age, applicant type and decision.
CREATE OR REPLACE VIEW observations_eurostat AS
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
    s.release
FROM raw_eurostat_cells c
JOIN eurostat_series s USING (series_id)
JOIN raw_eurostat_periods p USING (period_id)
JOIN raw_eurostat_flags f USING (flag_id)
-- An anti join, not NOT EXISTS: DuckDB plans a correlated NOT EXISTS as a
-- delim join that first groups every (series_id, period_id) of the cells.
ANTI JOIN eurostat_superseded x ON x.series_id = c.series_id AND x.period_id = c.period_id;
