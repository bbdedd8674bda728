-- Purpose: the series of the profile chart asylum_recognition: the share
--          of decisions on the merits that grant protection to a country's
--          citizens in the EU and in their three main countries of asylum:
--          UNHCR's total protection rate (refugee status and complementary
--          protection over those plus rejections, all procedure stages,
--          otherwise closed cases left out) beside Eurostat's
--          first-instance recognition rate (positive over positive plus
--          rejected), the two rates that count the same outcomes. Like
--          every rate of the profiles it is drawn only on a base of at
--          least 30 decisions on the merits (the mart keeps every rate). A
--          series without a single rate is left out.
-- Inputs:  profile_asylum_points, profile_asylum_places.
-- Grain:   one row per origin, series and year (chart_* columns, see
--          105_chart_schengen_visas.sql).
CREATE OR REPLACE TABLE chart_asylum_recognition AS
WITH points AS (
    SELECT
        origin AS country,
        CAST(2 * rank + 1 AS INTEGER) AS series_order,
        place_name || ', UNHCR all stages' AS series,
        year,
        CASE WHEN unhcr_merits >= 30 THEN unhcr_total_protection_rate END AS value,
        coalesce(unhcr_partial AND unhcr_merits >= 30, false) AS partial,
        list_filter([
            CASE WHEN unhcr_partial AND unhcr_merits >= 30 THEN
                unhcr_partial_note(place_name, unhcr_months)
            END,
            CASE WHEN unhcr_merits > 0 AND unhcr_merits < 30
                 THEN place_name || ', UNHCR: fewer than 30 decisions on the merits, no rate drawn' END,
            CASE WHEN rank = 0 AND unhcr_merits >= 30 AND decisions_members < 27
                 THEN 'EU, UNHCR: the sum over the member states with UNHCR figures, not all 27' END
        ], x -> x IS NOT NULL) AS notes
    FROM profile_asylum_points
    UNION ALL
    SELECT
        origin,
        CAST(2 * rank + 2 AS INTEGER),
        place_name || ', Eurostat first instance',
        year,
        CASE WHEN eurostat_merits >= 30 THEN eurostat_recognition_rate END,
        false,
        list_filter([
            CASE WHEN eurostat_merits > 0 AND eurostat_merits < 30
                 THEN place_name || ', Eurostat: fewer than 30 decisions on the merits, no rate drawn' END,
            CASE WHEN eurostat_merits >= 30 AND eurostat_flag_words IS NOT NULL
                 THEN place_name || ', Eurostat: flag ' || eurostat_flag_words END
        ], x -> x IS NOT NULL)
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
       ['No Eurostat first-instance decisions on these citizens are loaded: the rates are UNHCR''s alone']
FROM drawn
GROUP BY country
HAVING NOT bool_or(series LIKE '%, Eurostat first instance')
ORDER BY country, series_order, year;
