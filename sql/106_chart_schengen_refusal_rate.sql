-- Purpose: the series of the profile chart schengen_refusal_rate: the EC
--          not-issued (refusal) rate of uniform visas at the consulates
--          located in a country, N / (J + M + N), every EC year loaded.
--          Like every rate of the profiles it is drawn only on a base of at
--          least 30 decisions (the mart keeps every rate); the years whose
--          workbooks do not report refusals of uniform visas alone are
--          empty, and a point of a year whose rate counts differently
--          from today's carries what it counts (ref_ec_comparability).
-- Inputs:  schengen_host_country_year, ref_ec_comparability,
--          profile_ec_missing_years.
-- Grain:   one row per host country and year (chart_* columns, see
--          105_chart_schengen_visas.sql).
CREATE OR REPLACE TABLE chart_schengen_refusal_rate AS
SELECT
    h.host_country AS country,
    1 AS series_order,
    'Refusal rate' AS series,
    h.year,
    CASE WHEN h.uniform_issued + h.ltv_issued + h.uniform_not_issued >= 30 THEN h.not_issued_rate END AS value,
    false AS partial,
    list_filter([d.note,
                 CASE WHEN h.not_issued_rate IS NOT NULL AND h.uniform_issued + h.ltv_issued + h.uniform_not_issued < 30
                      THEN 'fewer than 30 decisions on uniform visas: no rate drawn (schengen_host_country_year has it)' END],
                x -> x IS NOT NULL) AS notes
FROM schengen_host_country_year h
LEFT JOIN ref_ec_comparability d
       ON d.measure = 'not_issued_rate' AND h.year BETWEEN d.first_year AND d.last_year
UNION ALL
SELECT host_country, 1, 'Refusal rate', year, NULL, false, ['no EC workbook is loaded for this year']
FROM profile_ec_missing_years
ORDER BY country, series_order, year;
