-- Purpose: the trailing part of observations' key order (sex, age,
--          applicant_type, decision) numbered in that order, for sort_key
--          (see eurostat_cells_ordered).
-- Inputs:  observations_stored, eurostat_series.
-- Grain:   one row per sex, age, applicant type and decision.
CREATE OR REPLACE TABLE observation_breakdowns AS
SELECT sex, age, applicant_type, decision,
       row_number() OVER (ORDER BY sex, age, applicant_type, decision) AS breakdown_rank
FROM (
    SELECT DISTINCT sex, age, applicant_type, decision FROM observations_stored
    UNION
    SELECT DISTINCT sex, age, applicant_type, decision FROM eurostat_series
);
