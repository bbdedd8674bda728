-- Purpose: the series of the profile chart schengen_visas: uniform
--          (short-stay Schengen) visa applications lodged and uniform visas
--          issued at the Schengen States' consulates located in a country,
--          whatever the applicants' nationality, every EC year loaded. A
--          point of a year that counts differently from today carries what
--          it counts (ref_ec_comparability, the definitions with a last
--          year: LTVs were counted inconsistently before 2013), and a year
--          without any EC workbook has an empty point that says so.
-- Inputs:  schengen_host_country_year, ref_ec_comparability,
--          profile_ec_missing_years.
-- Grain:   one row per host country, series and year. Every chart_* table
--          has the columns country, series_order, series, year, value,
--          partial, notes (pipeline/profiles.go reads them); a row with an
--          empty year carries notes on the whole chart.
CREATE OR REPLACE TABLE chart_schengen_visas AS
WITH series(series_order, series, measure) AS (
    -- uniform_issued (J) is read with the definitions of issued: what
    -- ref_ec_comparability says of "C visas issued" before 2013.
    VALUES (1, 'Uniform visa applications', 'uniform_applied'),
           (2, 'Uniform visas issued', 'issued')
)
SELECT
    h.host_country AS country,
    s.series_order,
    s.series,
    h.year,
    CAST(CASE s.measure WHEN 'uniform_applied' THEN h.uniform_applied ELSE h.uniform_issued END AS DOUBLE) AS value,
    false AS partial,
    CASE WHEN d.note IS NULL THEN CAST([] AS VARCHAR[]) ELSE [d.note] END AS notes
FROM schengen_host_country_year h
CROSS JOIN series s
LEFT JOIN ref_ec_comparability d
       ON d.measure = s.measure AND h.year BETWEEN d.first_year AND d.last_year
UNION ALL
SELECT m.host_country, s.series_order, s.series, m.year, NULL, false, ['no EC workbook is loaded for this year']
FROM profile_ec_missing_years m
CROSS JOIN series s
ORDER BY country, series_order, year;
