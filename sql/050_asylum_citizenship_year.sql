-- Purpose: asylum applicants and first-instance decisions per reporting
--          country (or EU aggregate) and citizenship per year, from Eurostat's
--          annual datasets, all sexes and ages, both codings of applicants and
--          decisions through their common indicators (first_time_applicants is
--          NASY_APP or FRST, decisions_positive TOTAL_POS or POS, ...), with
--          the flags of every figure the row is built from carried along (a
--          row built from a provisional value is marked provisional).
--          Eurostat's geo TOTAL is the sum over the countries that report
--          to Eurostat, not the world: its reporter_name says how many
--          report that year. No change is published on a base of fewer
--          than 30 first-time applicants in the earlier year (Eurostat
--          rounds to 5: +900% on 5 says nothing); change_note says why.
-- Inputs:  observations (eurostat_migr_asyappctza, eurostat_migr_asydcfsta),
--          ref_countries, ref_eurostat_flags.
-- Grain:   one row per reporter, citizenship and year.
CREATE OR REPLACE TABLE asylum_citizenship_year AS
WITH base AS (
    SELECT reporter, partner AS citizenship, year, indicator, value, flags
    FROM observations
    WHERE dataset IN ('eurostat_migr_asyappctza', 'eurostat_migr_asydcfsta')
      AND sex = 'T' AND age = 'TOTAL'
      -- Years only: a quarter (2025-Q2) has no month either.
      AND period = CAST(year AS VARCHAR)
      AND indicator IN ('asylum_applicants', 'first_time_applicants', 'decisions_total',
                        'decisions_positive', 'decisions_rejected')
),
w AS (
    SELECT
        reporter,
        citizenship,
        year,
        CAST(max(value) FILTER (WHERE indicator = 'first_time_applicants') AS BIGINT) AS first_time_applicants,
        CAST(max(value) FILTER (WHERE indicator = 'asylum_applicants') AS BIGINT) AS asylum_applicants,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_total') AS BIGINT) AS decisions_total,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_positive') AS BIGINT) AS decisions_positive,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_rejected') AS BIGINT) AS decisions_rejected,
        list_sort(list_distinct(flatten(list(string_split(flags, ''))))) AS flag_letters
    FROM base
    GROUP BY reporter, citizenship, year
),
-- The countries reporting to Eurostat per year, which its TOTAL sums.
reporting AS (
    SELECT b.year, count(DISTINCT b.reporter) AS countries
    FROM base b JOIN ref_countries c ON c.code = b.reporter AND c.kind = 'country'
    GROUP BY b.year
),
k AS (
    SELECT w.*,
           CASE WHEN lag(w.year) OVER win = w.year - 1 THEN lag(w.first_time_applicants) OVER win END AS previous_first_time
    FROM w
    WINDOW win AS (PARTITION BY w.reporter, w.citizenship ORDER BY w.year)
)
SELECT
    w.reporter,
    nullif(r.iso3, '') AS reporter_iso3,
    CASE WHEN w.reporter = 'TOTAL'
         THEN 'Total of the ' || coalesce(p.countries, 0) || ' countries reporting to Eurostat in ' || w.year
         ELSE r.name END AS reporter_name,
    w.citizenship,
    nullif(c.iso3, '') AS citizenship_iso3,
    c.name AS citizenship_name,
    w.year,
    w.first_time_applicants,
    w.asylum_applicants,
    w.decisions_total,
    w.decisions_positive,
    w.decisions_rejected,
    w.decisions_positive / nullif(w.decisions_positive + w.decisions_rejected, 0) AS recognition_rate,
    CASE WHEN w.previous_first_time >= 30
         THEN w.first_time_applicants / w.previous_first_time - 1
    END AS first_time_applicants_yoy_change,
    CASE WHEN w.first_time_applicants IS NOT NULL AND w.previous_first_time < 30
         THEN 'no change from ' || (w.year - 1) || ': ' || w.previous_first_time || ' first-time applicants then, fewer than 30'
    END AS change_note,
    array_to_string(w.flag_letters, '') AS flags,
    -- Provisional by the canonical meaning of the letters (ref_eurostat_flags).
    list_has_any(w.flag_letters, (SELECT list(letter) FROM ref_eurostat_flags WHERE canonical_meaning = 'provisional')) AS provisional
FROM k w
JOIN ref_countries r ON r.code = w.reporter
JOIN ref_countries c ON c.code = w.citizenship
LEFT JOIN reporting p ON p.year = w.year
ORDER BY w.reporter, w.citizenship, w.year;
