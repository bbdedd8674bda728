-- Purpose: the key figures people quote, one line each with how it was
--          computed and from which file: Schengen visas at consulates located
--          in Russia and worldwide (and the Russian series since 2009 with
--          its peak year), the EC refusal rate, asylum applicants
--          with Russian citizenship, UNHCR's applications by persons from
--          Russia and its decisions on them in France and the EU, and the
--          Russian MFA's own total. A figure whose input covers only part of
--          its year says so in period_label and has no change.
-- Inputs:  schengen_host_country_year, schengen_state_year,
--          asylum_citizenship_year, asylum_decisions_compared, observations,
--          inputs.
-- Grain:   one row per figure (latest year with data for each).
CREATE OR REPLACE TABLE headlines AS
WITH ec_files AS (
    SELECT year, regexp_extract(path, '[^/]+$') AS file FROM inputs WHERE source = 'ec_schengen_consulates'
),
ru AS (
    SELECT * FROM schengen_host_country_year WHERE host_country = 'RU'
    QUALIFY year = max(year) OVER ()
),
ru_series AS (
    SELECT min(year) AS first_year, max(year) AS last_year, count(*) AS years,
           arg_max(year, uniform_applied) AS peak_year, max(uniform_applied) AS peak,
           arg_max(uniform_applied, year) AS latest,
           coalesce((SELECT string_agg(CAST(y.range AS VARCHAR), ', ' ORDER BY y.range)
                     FROM range(min(h.year), max(h.year) + 1) y
                     WHERE y.range NOT IN (SELECT year FROM schengen_host_country_year WHERE host_country = 'RU' AND uniform_applied IS NOT NULL)), '') AS missing
    FROM schengen_host_country_year h
    WHERE host_country = 'RU' AND uniform_applied IS NOT NULL
    HAVING count(*) > 0
),
world AS (
    SELECT year, sum(applications) AS applications, sum(uniform_not_issued) AS n,
           sum(uniform_issued + ltv_issued + uniform_not_issued) AS d
    FROM schengen_state_year GROUP BY year
),
world_latest AS (
    SELECT w.*, w.applications / nullif(lag(w.applications) OVER (ORDER BY w.year), 0) - 1 AS change,
           lag(w.year) OVER (ORDER BY w.year) AS prev_year
    FROM world w
    QUALIFY w.year = max(w.year) OVER ()
),
asy AS (
    SELECT * FROM asylum_citizenship_year
    WHERE citizenship = 'RU' AND reporter IN ('EU27_2020', 'EU28') AND first_time_applicants IS NOT NULL
    QUALIFY row_number() OVER (ORDER BY year DESC, reporter = 'EU27_2020' DESC) = 1
),
unhcr_years AS (
    SELECT year, sum(value) AS value, count(DISTINCT reporter) AS countries, bool_and(period_complete) AS complete,
           CASE WHEN bool_and(period_complete) THEN CAST(year AS VARCHAR)
                ELSE CAST(year AS VARCHAR) || ' (' || CASE WHEN bool_or(period_complete) THEN 'partly ' ELSE '' END
                     || string_agg(DISTINCT regexp_extract(period_label, '\((.*)\)', 1), ', ') || ')'
           END AS period_label
    FROM observations
    WHERE dataset = 'unhcr_asylum_applications' AND indicator = 'asylum_applicants' AND partner = 'RU'
    GROUP BY year
),
unhcr AS (
    SELECT *,
           CASE WHEN complete AND lag(year) OVER (ORDER BY year) = year - 1 AND lag(complete) OVER (ORDER BY year)
                THEN value / nullif(lag(value) OVER (ORDER BY year), 0) - 1 END AS change,
           lag(countries) OVER (ORDER BY year) AS prev_countries
    FROM unhcr_years
    QUALIFY year = max(year) OVER ()
),
ru_decisions AS (
    SELECT * FROM asylum_decisions_compared
    WHERE origin = 'RU' AND asylum_country IN ('FR', 'EU27_2020') AND unhcr_decisions_total IS NOT NULL
    QUALIFY year = max(year) OVER (PARTITION BY asylum_country)
),
mfa AS (
    SELECT year, value,
           CASE WHEN lag(year) OVER (ORDER BY year) = year - 1 THEN value / nullif(lag(value) OVER (ORDER BY year), 0) - 1 END AS change
    FROM observations
    WHERE dataset = 'ru_mfa_published' AND indicator = 'visas_issued' AND partner = 'WORLD'
    QUALIFY year = max(year) OVER ()
)
SELECT 1 AS rank, 'Schengen visas' AS topic,
       'Applications lodged at Schengen consulates located in Russia (any nationality)' AS figure,
       ru.year, CAST(ru.year AS VARCHAR) AS period_label, CAST(ru.applications AS DOUBLE) AS value, CAST(NULL AS DOUBLE) AS rate, ru.applications_yoy_change AS change,
       'ATV + uniform visa applications (EC columns D + I) summed over the ' || ru.consulates || ' consulates located in Russia; change against ' || (ru.year - 1) AS how_computed,
       f.file AS source
FROM ru LEFT JOIN ec_files f ON f.year = ru.year
UNION ALL
SELECT 2, 'Schengen visas',
       'Uniform visa applications at Schengen consulates located in Russia (any nationality), ' || s.first_year || '-' || s.last_year || ': the peak year',
       s.peak_year, s.first_year || '-' || s.last_year || ' (peak ' || s.peak_year || ')', CAST(s.peak AS DOUBLE), NULL, NULL,
       'C (uniform) visa applications (the one count every workbook since 2009 has) summed over the consulates located in Russia, for each of the '
       || s.years || ' years with a workbook' || CASE WHEN s.missing <> '' THEN ' (none for ' || s.missing || ')' ELSE '' END
       || '; peak ' || s.peak || ' in ' || s.peak_year || '; ' || s.last_year || ': ' || s.latest || ', '
       || CAST(round(100 * (1 - s.latest / s.peak), 1) AS VARCHAR) || '% below the peak',
       f.file
FROM ru_series s LEFT JOIN ec_files f ON f.year = s.peak_year
UNION ALL
SELECT 3, 'Schengen visas', 'EC refusal rate for uniform visas at consulates located in Russia',
       ru.year, CAST(ru.year AS VARCHAR), NULL, ru.not_issued_rate, NULL,
       'N / (J + M + N) = ' || ru.uniform_not_issued || ' / (' || ru.uniform_issued || ' + ' || ru.ltv_issued || ' + ' || ru.uniform_not_issued || '), LTVs counted as the EC does',
       f.file
FROM ru LEFT JOIN ec_files f ON f.year = ru.year
UNION ALL
SELECT 4, 'Schengen visas', 'Applications lodged at all Schengen consulates worldwide',
       w.year, CAST(w.year AS VARCHAR), CAST(w.applications AS DOUBLE), NULL, CASE WHEN w.prev_year = w.year - 1 THEN w.change END,
       'D + I summed over every consulate row of the workbook (reconciled with its Total worldwide row)',
       f.file
FROM world_latest w LEFT JOIN ec_files f ON f.year = w.year
UNION ALL
SELECT 5, 'Schengen visas', 'EC refusal rate for uniform visas, all consulates',
       w.year, CAST(w.year AS VARCHAR), NULL, w.n / nullif(w.d, 0), NULL,
       'N / (J + M + N) over every consulate row', f.file
FROM world_latest w LEFT JOIN ec_files f ON f.year = w.year
UNION ALL
SELECT 6, 'Asylum', 'First-time asylum applicants with Russian citizenship in the ' || a.reporter_name,
       a.year, CAST(a.year AS VARCHAR), CAST(a.first_time_applicants AS DOUBLE), NULL, a.first_time_applicants_yoy_change,
       'Eurostat migr_asyappctza, all sexes and ages, rounded to 5 by Eurostat' ||
       CASE WHEN a.flags <> '' THEN '; flags: ' || a.flags ELSE '' END,
       'Eurostat migr_asyappctza'
FROM asy a
UNION ALL
SELECT 7, 'Asylum', 'Asylum applications by persons from Russia, summed over the ' || u.countries || ' countries of asylum in the UNHCR data for ' || u.year || ' (UNHCR)',
       u.year, u.period_label, u.value, NULL, u.change,
       'UNHCR applied, persons only (cases never added), summed over countries of asylum, authorities, application types and stages' ||
       CASE WHEN u.complete THEN '; change against ' || (u.year - 1) || ' (' || u.prev_countries || ' countries of asylum)'
            ELSE '; the UNHCR input covers only part of the year, so no change is computed' END,
       'UNHCR Refugee Data Finder'
FROM unhcr u
UNION ALL
SELECT CASE d.asylum_country WHEN 'FR' THEN 8 ELSE 9 END, 'Asylum',
       'Asylum decisions on persons from Russia in ' || CASE d.asylum_country WHEN 'FR' THEN 'France' ELSE 'the EU (27 member states)' END || ', all procedure stages (UNHCR); rate: refugee recognition rate',
       d.year, d.unhcr_period, CAST(d.unhcr_decisions_total AS DOUBLE), d.unhcr_recognition_rate, d.unhcr_decisions_yoy_change,
       d.unhcr_recognized || ' recognised as refugees, ' || d.unhcr_complementary || ' complementary protection, ' || d.unhcr_rejected || ' rejected, '
       || d.unhcr_otherwise_closed || ' otherwise closed; rate = recognised / (recognised + complementary + rejected)' ||
       CASE WHEN NOT d.unhcr_period_complete THEN '; the UNHCR input covers only part of the year' ELSE '' END,
       'UNHCR Refugee Data Finder (asylum_decisions_compared)'
FROM ru_decisions d
UNION ALL
SELECT 10, 'Russian visas', 'Visas issued by Russia (paper visas, as reported from the Foreign Ministry)',
       m.year, CAST(m.year AS VARCHAR), m.value, NULL, m.change,
       'Published total, rounded by the publisher; see ru_mfa_visas_published for the citation' ||
       CASE WHEN m.change IS NOT NULL THEN '; change against ' || (m.year - 1) || ', both totals as published (rounded to thousands)' ELSE '' END,
       'Russian MFA via news agencies'
FROM mfa m
ORDER BY rank;
