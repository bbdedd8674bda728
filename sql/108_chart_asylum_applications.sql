-- Purpose: the series of the profile chart asylum_applications: asylum
--          applications by a country's citizens in the EU and in their
--          three main countries of asylum (profile_asylum_places), as UNHCR
--          counts them (persons, all application types and procedure
--          stages), beside Eurostat's first-time applicants in its own EU
--          aggregate (EU27_2020 where loaded, EU28 otherwise). A series
--          without a single figure is left out. Points say when a UNHCR
--          figure covers part of the year, when the EU sum has fewer than
--          all 27 member states, and Eurostat's flags in words.
-- Inputs:  profile_asylum_points, profile_asylum_places,
--          asylum_citizenship_year, profile_eurostat_flag_words.
-- Grain:   one row per origin, series and year (chart_* columns, see
--          105_chart_schengen_visas.sql).
CREATE OR REPLACE TABLE chart_asylum_applications AS
WITH unhcr AS (
    SELECT
        origin AS country,
        CAST(CASE WHEN rank = 0 THEN 1 ELSE rank + 2 END AS INTEGER) AS series_order,
        place_name || ', UNHCR' AS series,
        year,
        CAST(unhcr_applications AS DOUBLE) AS value,
        unhcr_partial AND unhcr_applications IS NOT NULL AS partial,
        list_filter([
            CASE WHEN unhcr_partial AND unhcr_applications IS NOT NULL THEN
                unhcr_partial_note(place_name, unhcr_months)
            END,
            CASE WHEN rank = 0 AND unhcr_applications IS NOT NULL AND applications_members < 27
                 THEN 'EU, UNHCR: the sum over the member states with UNHCR figures, not all 27' END
        ], x -> x IS NOT NULL) AS notes
    FROM profile_asylum_points
),
eurostat AS (
    SELECT
        a.citizenship AS country,
        2 AS series_order,
        CASE a.reporter WHEN 'EU27_2020' THEN 'EU' ELSE a.reporter END || ', Eurostat first-time applicants' AS series,
        a.year,
        CAST(a.first_time_applicants AS DOUBLE) AS value,
        false AS partial,
        CASE WHEN w.words IS NULL THEN CAST([] AS VARCHAR[])
             ELSE [CASE a.reporter WHEN 'EU27_2020' THEN 'EU' ELSE a.reporter END || ', Eurostat: flag ' || w.words] END AS notes
    FROM asylum_citizenship_year a
    LEFT JOIN profile_eurostat_flag_words w ON w.flags = a.flags
    WHERE a.reporter IN ('EU27_2020', 'EU28') AND a.first_time_applicants IS NOT NULL
    QUALIFY a.reporter = min(a.reporter) OVER (PARTITION BY a.citizenship)
),
points AS (
    SELECT * FROM unhcr
    UNION ALL
    SELECT * FROM eurostat
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
SELECT DISTINCT country, NULL, NULL, NULL, NULL, false,
       ['EU28 is the Union of 2013-2020, with the United Kingdom; UNHCR''s EU is the 27 member states of the Union since 2020, in every year']
FROM drawn
WHERE series = 'EU28, Eurostat first-time applicants'
ORDER BY country, series_order, year;
