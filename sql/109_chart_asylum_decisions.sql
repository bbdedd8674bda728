-- Purpose: the series of the profile chart asylum_decisions: decisions on
--          asylum applications by a country's citizens in the EU and in
--          their three main countries of asylum (profile_asylum_places),
--          UNHCR's (persons, all procedure stages and authorities,
--          otherwise closed cases included) beside Eurostat's first-instance
--          decisions, where loaded. A series without a single figure is
--          left out, and a row without a year says so when Eurostat has
--          none at all for these citizens.
-- Inputs:  profile_asylum_points, profile_asylum_places.
-- Grain:   one row per origin, series and year (chart_* columns, see
--          105_chart_schengen_visas.sql).
CREATE OR REPLACE TABLE chart_asylum_decisions AS
WITH points AS (
    SELECT
        origin AS country,
        CAST(2 * rank + 1 AS INTEGER) AS series_order,
        place_name || ', UNHCR all stages' AS series,
        year,
        CAST(unhcr_decisions_total AS DOUBLE) AS value,
        unhcr_partial AND unhcr_decisions_total IS NOT NULL AS partial,
        list_filter([
            CASE WHEN unhcr_partial AND unhcr_decisions_total IS NOT NULL THEN
                unhcr_partial_note(place_name, unhcr_months)
            END,
            CASE WHEN rank = 0 AND unhcr_decisions_total IS NOT NULL AND decisions_members < 27
                 THEN 'EU, UNHCR: the sum over the member states with UNHCR figures, not all 27' END
        ], x -> x IS NOT NULL) AS notes
    FROM profile_asylum_points
    UNION ALL
    SELECT
        origin,
        CAST(2 * rank + 2 AS INTEGER),
        place_name || ', Eurostat first instance',
        year,
        CAST(eurostat_decisions_total AS DOUBLE),
        false,
        CASE WHEN eurostat_flag_words IS NULL OR eurostat_decisions_total IS NULL THEN CAST([] AS VARCHAR[])
             ELSE [place_name || ', Eurostat: flag ' || eurostat_flag_words] END
    FROM profile_asylum_points
),
drawn AS (
    SELECT * FROM points
    QUALIFY bool_or(value IS NOT NULL) OVER (PARTITION BY country, series_order)
)
SELECT * FROM drawn
UNION ALL
SELECT DISTINCT origin, NULL, NULL, NULL, NULL, false,
       [main_places_note(first_year, last_year)]
FROM profile_asylum_places
WHERE rank > 0
UNION ALL
SELECT country, NULL, NULL, NULL, NULL, false,
       ['No Eurostat first-instance decisions on these citizens are loaded: the figures are UNHCR''s alone']
FROM drawn
GROUP BY country
HAVING NOT bool_or(series LIKE '%, Eurostat first instance')
ORDER BY country, series_order, year;
