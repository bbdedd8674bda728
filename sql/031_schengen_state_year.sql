-- Purpose: Schengen visa applications, decisions and the EC refusal rate per
--          Schengen State whose consulates handled them, and year: the state
--          key of schengen_rollup.
-- Inputs:  schengen_rollup.
-- Grain:   one row per state and year.
CREATE OR REPLACE TABLE schengen_state_year AS
SELECT
    country AS state, country_iso3 AS state_iso3, country_name AS state_name, year,
    applications, uniform_applied, issued, uniform_issued, ltv_issued,
    not_issued, uniform_not_issued, not_issued_rate, applications_yoy_change,
    uniform_applied_yoy_change, comparability_note, consulates
FROM schengen_rollup
WHERE rolled_up_by = 'state'
ORDER BY state, year;
