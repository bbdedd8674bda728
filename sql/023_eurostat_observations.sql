-- Purpose: one home for how a table of Eurostat cells reads as
--          observations: each cell joined to its series, period and flags,
--          the observation columns in the order observations shows them,
--          then the cell's series_id and period_id and, where the cell
--          table has them, its coverage and sort_key, for the caller to
--          filter on or drop. observations_eurostat reads the cells as
--          loaded, observations_eurostat_ordered the export's ordered copy.
--          Columns are named without table aliases (DuckDB 1.1 does not
--          bind an alias given to query_table() inside a table macro), so
--          coverage and sort_key must stay names only a cell table has.
-- Inputs:  the cell table named by the argument (series_id, period_id,
--          value, flag_id, ...), eurostat_series, raw_eurostat_periods,
--          raw_eurostat_flags.
-- Grain:   a table macro, eurostat_observations(cell_table): one row per
--          cell of cell_table.
CREATE OR REPLACE MACRO eurostat_observations(cell_table) AS TABLE
SELECT
    dataset,
    indicator,
    reporter,
    partner,
    'citizenship' AS partner_role,
    '' AS location,
    period,
    year,
    month,
    sex,
    age,
    applicant_type,
    decision,
    value,
    flags,
    release,
    COLUMNS(c -> c IN ('series_id', 'period_id', 'coverage', 'sort_key'))
FROM query_table(cell_table)
JOIN eurostat_series USING (series_id)
JOIN raw_eurostat_periods USING (period_id)
JOIN raw_eurostat_flags USING (flag_id);
