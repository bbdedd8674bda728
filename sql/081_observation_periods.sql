-- Purpose: the periods of observations numbered in key order (year, then
--          period), for sort_key (see eurostat_cells_ordered); a year's
--          periods have consecutive numbers, which the partitioned export
--          relies on.
-- Inputs:  observations_stored, raw_eurostat_periods.
-- Grain:   one row per year and period.
CREATE OR REPLACE TABLE observation_periods AS
SELECT year, period, row_number() OVER (ORDER BY year, period) AS period_rank
FROM (
    SELECT DISTINCT year, period FROM observations_stored
    UNION
    SELECT year, period FROM raw_eurostat_periods
);
