-- Purpose: Schengen visa applications, decisions and the EC refusal rate per
--          host country of the consulates (where the application was lodged,
--          not the applicants' nationality) and year: the host-country key of
--          schengen_rollup.
-- Inputs:  schengen_rollup.
-- Grain:   one row per host_country and year.
CREATE OR REPLACE TABLE schengen_host_country_year AS
SELECT
    country AS host_country, country_iso3 AS host_country_iso3, country_name AS host_country_name, year,
    applications, uniform_applied, issued, uniform_issued, ltv_issued,
    not_issued, uniform_not_issued, not_issued_rate, applications_yoy_change,
    uniform_applied_yoy_change, comparability_note, consulates
FROM schengen_rollup
WHERE rolled_up_by = 'host_country'
ORDER BY host_country, year;
