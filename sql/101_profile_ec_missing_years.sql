-- Purpose: for each host country of Schengen consulates, the years between
--          its first and last year in the EC data for which no EC workbook
--          is loaded at all (2011 in the shipped data), so that the
--          profile charts say why a year is empty rather than leave a bare
--          gap.
-- Inputs:  schengen_host_country_year, schengen_state_year.
-- Grain:   one row per host country and year without a workbook.
CREATE OR REPLACE TABLE profile_ec_missing_years AS
WITH loaded AS (
    SELECT DISTINCT year FROM schengen_state_year
),
span AS (
    SELECT host_country, min(year) AS first_year, max(year) AS last_year
    FROM schengen_host_country_year
    GROUP BY host_country
)
SELECT s.host_country, y.year
FROM span s, (SELECT unnest(range(min(year), max(year) + 1)) AS year FROM loaded) y
WHERE y.year BETWEEN s.first_year AND s.last_year
  AND y.year NOT IN (SELECT year FROM loaded)
ORDER BY s.host_country, y.year;
