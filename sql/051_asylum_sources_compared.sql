-- Purpose: Eurostat and UNHCR side by side for the same country of asylum,
--          origin (citizenship for Eurostat) and year, with the difference
--          shown: the two count differently (Eurostat rounds to 5 and counts
--          applicants by citizenship; UNHCR counts persons by origin over all
--          procedure stages), so neither is hidden behind the other. A UNHCR
--          figure from an input that covers only part of the year (a
--          mid-year release) is shown with its coverage (unhcr_period, e.g.
--          "2023 (Jan-Jun)") and is never subtracted from Eurostat's full
--          year: the differences are empty for it. unhcr_period is always
--          text with the months covered ("2023 (Jan-Dec)" for a whole
--          year), so that a CSV reader types it as text in every row.
-- Inputs:  observations (eurostat_migr_asyappctza, unhcr_asylum_applications),
--          ref_countries.
-- Grain:   one row per asylum country, origin and year present in either
--          source (countries only; aggregates have no UNHCR counterpart).
CREATE OR REPLACE TABLE asylum_sources_compared AS
WITH es AS (
    SELECT reporter, partner, year,
        CAST(max(value) FILTER (WHERE indicator = 'asylum_applicants') AS BIGINT) AS eurostat_asylum_applicants,
        CAST(max(value) FILTER (WHERE indicator = 'first_time_applicants') AS BIGINT) AS eurostat_first_time_applicants,
        string_agg(DISTINCT nullif(flags, ''), '') AS eurostat_flags
    FROM observations
    WHERE dataset = 'eurostat_migr_asyappctza' AND sex = 'T' AND age = 'TOTAL'
      -- Years only: a quarter (2025-Q2) has no month either.
      AND period = CAST(year AS VARCHAR)
    GROUP BY ALL
),
un AS (
    SELECT reporter, partner, year, CAST(value AS BIGINT) AS unhcr_asylum_applicants,
           period_complete AS unhcr_period_complete,
           CASE WHEN period_complete THEN year || ' (Jan-Dec)' ELSE period_label END AS unhcr_period
    FROM observations
    WHERE dataset = 'unhcr_asylum_applications' AND indicator = 'asylum_applicants'
),
j AS (
    SELECT coalesce(es.reporter, un.reporter) AS asylum_country,
           coalesce(es.partner, un.partner) AS origin,
           coalesce(es.year, un.year) AS year,
           es.eurostat_asylum_applicants, es.eurostat_first_time_applicants, coalesce(es.eurostat_flags, '') AS eurostat_flags,
           un.unhcr_asylum_applicants, un.unhcr_period_complete, un.unhcr_period
    FROM es FULL OUTER JOIN un
      ON es.reporter = un.reporter AND es.partner = un.partner AND es.year = un.year
)
SELECT
    j.asylum_country,
    nullif(a.iso3, '') AS asylum_country_iso3,
    a.name AS asylum_country_name,
    j.origin,
    nullif(o.iso3, '') AS origin_iso3,
    o.name AS origin_name,
    j.year,
    j.eurostat_asylum_applicants,
    j.eurostat_first_time_applicants,
    j.eurostat_flags,
    j.unhcr_asylum_applicants,
    j.unhcr_period,
    j.unhcr_period_complete,
    CASE WHEN j.unhcr_period_complete THEN j.unhcr_asylum_applicants - j.eurostat_asylum_applicants END AS difference_vs_all_applicants,
    CASE WHEN j.unhcr_period_complete THEN j.unhcr_asylum_applicants - j.eurostat_first_time_applicants END AS difference_vs_first_time
FROM j
JOIN ref_countries a ON a.code = j.asylum_country AND a.kind = 'country'
JOIN ref_countries o ON o.code = j.origin
ORDER BY j.asylum_country, j.origin, j.year;
