-- Purpose: the key figures people quote, one line each with how it was
--          computed and from which file: Schengen visas at consulates located
--          in Russia and worldwide (and the Russian series since 2009 with
--          its peak year), the EC refusal rate, asylum applicants
--          with Russian citizenship, UNHCR's applications by persons from
--          Russia and its decisions on them in France and the EU, and the
--          Russian MFA's own total. A figure whose input covers only part of
--          its year says so in period_label and has no change. period_label
--          is always text with the months covered ("2024 (Jan-Dec)"), so
--          that a CSV reader types it as text. A change is computed over
--          the same countries in both years (a sum over 58 countries of
--          asylum is never set beside one over 60) and never on a base of
--          fewer than 30; how_computed says what was compared or why there
--          is no change. source names the input files the figure was
--          computed from (inputs), not the publisher's product.
-- Inputs:  schengen_host_country_year, schengen_state_year,
--          asylum_citizenship_year, asylum_decisions_compared, observations,
--          inputs, eu27_2020_members.
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
    SELECT w.*, lag(w.applications) OVER (ORDER BY w.year) AS prev_applications,
           lag(w.year) OVER (ORDER BY w.year) AS prev_year
    FROM world w
    QUALIFY w.year = max(w.year) OVER ()
),
asy AS (
    SELECT * FROM asylum_citizenship_year
    WHERE citizenship = 'RU' AND reporter IN ('EU27_2020', 'EU28') AND first_time_applicants IS NOT NULL
    QUALIFY row_number() OVER (ORDER BY year DESC, reporter = 'EU27_2020' DESC) = 1
),
-- The input files each figure of a year comes from, by dataset and
-- country of asylum (observations carry the input's release id).
unhcr_files AS (
    SELECT o.dataset, o.reporter, o.year, regexp_extract(i.path, '[^/]+$') AS file
    FROM observations o JOIN inputs i ON i.source = 'unhcr' AND left(i.sha256, 12) = o.release
    WHERE o.dataset IN ('unhcr_asylum_applications', 'unhcr_asylum_decisions') AND o.partner = 'RU' AND o.value IS NOT NULL
    GROUP BY ALL
),
unhcr_countries AS (
    SELECT reporter, year, CAST(sum(value) AS BIGINT) AS value, bool_and(period_complete) AS complete,
           max(period_label) FILTER (WHERE NOT period_complete) AS partial_label
    FROM observations
    WHERE dataset = 'unhcr_asylum_applications' AND indicator = 'asylum_applicants' AND partner = 'RU' AND value IS NOT NULL
    GROUP BY reporter, year
),
unhcr_years AS (
    SELECT year, sum(value) AS value, count(*) AS countries, bool_and(complete) AS complete,
           CASE WHEN bool_and(complete) THEN year || ' (Jan-Dec)'
                ELSE year || ' (' || CASE WHEN bool_or(complete) THEN 'partly ' ELSE '' END
                     || string_agg(DISTINCT regexp_extract(partial_label, '\((.*)\)', 1), ', ') || ')'
           END AS period_label
    FROM unhcr_countries
    GROUP BY year
),
-- Each year against the year before over the countries of asylum with
-- figures in both.
unhcr_common AS (
    SELECT c.year, count(*) AS countries, sum(c.value) AS value_now, sum(p.value) AS value_before,
           bool_and(c.complete AND p.complete) AS complete
    FROM unhcr_countries c JOIN unhcr_countries p ON p.reporter = c.reporter AND p.year = c.year - 1
    GROUP BY c.year
),
unhcr AS (
    SELECT y.*, m.countries AS common_countries, m.value_now AS common_now, m.value_before AS common_before,
           m.complete AS common_complete,
           lag(y.countries) OVER (ORDER BY y.year) AS prev_countries,
           lag(y.year) OVER (ORDER BY y.year) AS prev_year
    FROM unhcr_years y LEFT JOIN unhcr_common m ON m.year = y.year
    QUALIFY y.year = max(y.year) OVER ()
),
ru_decisions AS (
    SELECT * FROM asylum_decisions_compared
    WHERE origin = 'RU' AND asylum_country IN ('FR', 'EU27_2020') AND unhcr_decisions_total IS NOT NULL
    QUALIFY year = max(year) OVER (PARTITION BY asylum_country)
),
mfa AS (
    SELECT o.year, o.value, regexp_extract(i.path, '[^/]+$') AS file,
           CASE WHEN lag(o.year) OVER (ORDER BY o.year) = o.year - 1 THEN lag(o.value) OVER (ORDER BY o.year) END AS prev_value
    FROM observations o LEFT JOIN inputs i ON i.source = 'ru_mfa_published' AND left(i.sha256, 12) = o.release
    WHERE o.dataset = 'ru_mfa_published' AND o.indicator = 'visas_issued' AND o.partner = 'WORLD'
    QUALIFY o.year = max(o.year) OVER ()
),
-- The Eurostat file of the asylum headline's figure.
eurostat_file AS (
    SELECT string_agg(DISTINCT regexp_extract(i.path, '[^/]+$'), ', ' ORDER BY regexp_extract(i.path, '[^/]+$')) AS files
    FROM observations o
    JOIN asy a ON o.reporter = a.reporter AND o.year = a.year
    JOIN inputs i ON i.source = 'eurostat_asylum' AND left(i.sha256, 12) = o.release
    WHERE o.dataset = 'eurostat_migr_asyappctza' AND o.indicator = 'first_time_applicants' AND o.partner = 'RU'
      AND o.sex = 'T' AND o.age = 'TOTAL'
      -- Years only: a quarter (2025-Q2) has no month either.
      AND o.period = CAST(o.year AS VARCHAR)
)
SELECT 1 AS rank, 'Schengen visas' AS topic,
       'Applications lodged at Schengen consulates located in Russia (any nationality)' AS figure,
       ru.year, ru.year || ' (Jan-Dec)' AS period_label, CAST(ru.applications AS DOUBLE) AS value, CAST(NULL AS DOUBLE) AS rate, ru.applications_yoy_change AS change,
       'ATV + uniform visa applications (EC columns D + I) summed over the ' || ru.consulates || ' consulates located in Russia; '
       || CASE WHEN ru.applications_yoy_change IS NOT NULL THEN 'change against ' || (ru.year - 1)
               ELSE coalesce(ru.comparability_note, 'no change: ' || (ru.year - 1) || ' is not loaded') END AS how_computed,
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
       ru.year, ru.year || ' (Jan-Dec)', NULL, ru.not_issued_rate, NULL,
       'N / (J + M + N) = ' || ru.uniform_not_issued || ' / (' || ru.uniform_issued || ' + ' || ru.ltv_issued || ' + ' || ru.uniform_not_issued || '), LTVs counted as the EC does',
       f.file
FROM ru LEFT JOIN ec_files f ON f.year = ru.year
UNION ALL
SELECT 4, 'Schengen visas', 'Applications lodged at all Schengen consulates worldwide',
       w.year, w.year || ' (Jan-Dec)', CAST(w.applications AS DOUBLE), NULL,
       CASE WHEN w.prev_year = w.year - 1 AND w.prev_applications >= 30 THEN w.applications / w.prev_applications - 1 END,
       'D + I summed over every consulate row of the workbook (reconciled with its Total worldwide row); '
       || CASE WHEN w.prev_year IS DISTINCT FROM w.year - 1 THEN 'no change: ' || (w.year - 1) || ' is not loaded'
               WHEN w.prev_applications < 30 THEN 'no change: ' || w.prev_applications || ' in ' || (w.year - 1) || ', fewer than 30'
               ELSE 'change against ' || (w.year - 1) || ' (' || w.prev_applications || ')' END,
       f.file
FROM world_latest w LEFT JOIN ec_files f ON f.year = w.year
UNION ALL
SELECT 5, 'Schengen visas', 'EC refusal rate for uniform visas, all consulates',
       w.year, w.year || ' (Jan-Dec)', NULL, w.n / nullif(w.d, 0), NULL,
       'N / (J + M + N) over every consulate row', f.file
FROM world_latest w LEFT JOIN ec_files f ON f.year = w.year
UNION ALL
SELECT 6, 'Asylum', 'First-time asylum applicants with Russian citizenship in the ' || a.reporter_name,
       a.year, a.year || ' (Jan-Dec)', CAST(a.first_time_applicants AS DOUBLE), NULL, a.first_time_applicants_yoy_change,
       'Eurostat migr_asyappctza, all sexes and ages, rounded to 5 by Eurostat' ||
       CASE WHEN a.flags <> '' THEN '; flags: ' || a.flags ELSE '' END ||
       CASE WHEN a.first_time_applicants_yoy_change IS NOT NULL THEN '; change against ' || (a.year - 1)
            WHEN a.change_note IS NOT NULL THEN '; ' || a.change_note
            ELSE '; no change: ' || (a.year - 1) || ' is not loaded' END,
       coalesce(ef.files, 'Eurostat migr_asyappctza')
FROM asy a CROSS JOIN eurostat_file ef
UNION ALL
SELECT 7, 'Asylum', 'Asylum applications by persons from Russia, summed over the ' || u.countries || ' countries of asylum in the UNHCR data for ' || u.year || ' (UNHCR)',
       u.year, u.period_label, CAST(u.value AS DOUBLE), NULL,
       CASE WHEN u.complete AND u.common_complete AND u.common_before >= 30 THEN u.common_now / u.common_before - 1 END,
       'UNHCR applied, persons only (cases never added), summed over countries of asylum, authorities, application types and stages; ' ||
       CASE WHEN NOT u.complete THEN 'the UNHCR input covers only part of the year, so no change is computed'
            WHEN u.common_countries IS NULL THEN 'no change: no country of asylum has figures in both ' || (u.year - 1) || ' and ' || u.year
            WHEN NOT u.common_complete THEN 'no change: ' || (u.year - 1) || ' is covered only in part'
            WHEN u.common_before < 30 THEN 'no change: ' || u.common_before || ' in ' || (u.year - 1) || ' over the countries of asylum with figures in both years, fewer than 30'
            ELSE 'change against ' || (u.year - 1) || ' over the ' || u.common_countries || ' countries of asylum with figures in both years ('
                 || u.common_before || ' in ' || (u.year - 1) || ', ' || u.common_now || ' in ' || u.year || '); '
                 || (u.year - 1) || ' has figures for ' || u.prev_countries || ' countries of asylum, ' || u.year || ' for ' || u.countries
       END,
       (SELECT string_agg(DISTINCT f.file, ', ' ORDER BY f.file) FROM unhcr_files f
        WHERE f.dataset = 'unhcr_asylum_applications' AND f.year = u.year)
FROM unhcr u
UNION ALL
SELECT CASE d.asylum_country WHEN 'FR' THEN 8 ELSE 9 END, 'Asylum',
       'Asylum decisions on persons from Russia in ' || CASE d.asylum_country WHEN 'FR' THEN 'France' ELSE 'the EU (27 member states)' END || ', all procedure stages (UNHCR); rate: refugee recognition rate',
       d.year, d.unhcr_period, CAST(d.unhcr_decisions_total AS DOUBLE), d.unhcr_recognition_rate, d.unhcr_decisions_yoy_change,
       d.unhcr_recognized || ' recognised as refugees, ' || d.unhcr_complementary || ' complementary protection, ' || d.unhcr_rejected || ' rejected, '
       || d.unhcr_otherwise_closed || ' otherwise closed; rate = recognised / (recognised + complementary + rejected)' ||
       CASE WHEN NOT d.unhcr_period_complete THEN '; the UNHCR input covers only part of the year' ELSE '' END ||
       CASE WHEN d.unhcr_note IS NOT NULL THEN '; ' || d.unhcr_note ELSE '' END ||
       CASE WHEN d.unhcr_decisions_yoy_change IS NOT NULL AND d.asylum_country <> 'EU27_2020' THEN '; change against ' || (d.year - 1) ELSE '' END,
       (SELECT string_agg(DISTINCT f.file, ', ' ORDER BY f.file) FROM unhcr_files f
        WHERE f.dataset = 'unhcr_asylum_decisions' AND f.year = d.year
          AND (f.reporter = d.asylum_country OR (d.asylum_country = 'EU27_2020' AND f.reporter IN (SELECT code FROM eu27_2020_members))))
FROM ru_decisions d
UNION ALL
SELECT 10, 'Russian visas', 'Visas issued by Russia (paper visas, as reported from the Foreign Ministry)',
       m.year, m.year || ' (Jan-Dec)', m.value, NULL,
       CASE WHEN m.prev_value >= 30 THEN m.value / m.prev_value - 1 END,
       'Published total, rounded by the publisher; see ru_mfa_visas_published for the citation' ||
       CASE WHEN m.prev_value >= 30 THEN '; change against ' || (m.year - 1) || ', both totals as published (rounded to thousands)' ELSE '' END,
       coalesce(m.file || ' (Russian MFA via news agencies)', 'Russian MFA via news agencies')
FROM mfa m
ORDER BY rank;
