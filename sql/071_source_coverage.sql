-- Purpose: what each source's loaded data cover, in one line per source,
--          computed from the observations this run loaded (never from what
--          the files are said to hold): per dataset the years (gaps named:
--          "2009-2010, 2012-2024 (no 2011)"), the countries on each side
--          (Schengen States and host countries of consulates, reporting
--          countries and citizenships, countries of asylum and origins),
--          the years where far fewer countries are covered than in the
--          best-covered year ("2017-2019: France only"; a year is thin
--          when it has fewer than half the countries of that year), and
--          the years some of whose figures cover only part of the year.
--          Only figures with a value count; aggregates (EU27_2020, TOTAL)
--          are not countries. run.json, the download page, the workbook's
--          About sheet and the README show the lines.
-- Inputs:  observations, ref_countries.
-- Grain:   one row per source (sources.csv's names), in the order shown.
CREATE OR REPLACE TABLE source_coverage AS
WITH datasets(dataset, source, source_order, source_label, dataset_label, reporter_word, partner_word) AS (
    VALUES
        ('ec_schengen_consulates', 'ec_schengen_consulates', 1, 'EC visas', 'applications and decisions at consulates', 'Schengen States', 'host countries of consulates'),
        ('eurostat_migr_asyappctza', 'eurostat_asylum', 2, 'Eurostat', 'asylum applicants (migr_asyappctza)', 'reporting countries', 'citizenships'),
        ('eurostat_migr_asyappctzm', 'eurostat_asylum', 2, 'Eurostat', 'monthly asylum applicants (migr_asyappctzm)', 'reporting countries', 'citizenships'),
        ('eurostat_migr_asydcfsta', 'eurostat_asylum', 2, 'Eurostat', 'first-instance decisions (migr_asydcfsta)', 'reporting countries', 'citizenships'),
        ('eurostat_migr_asydcfstq', 'eurostat_asylum', 2, 'Eurostat', 'quarterly first-instance decisions (migr_asydcfstq)', 'reporting countries', 'citizenships'),
        ('unhcr_asylum_applications', 'unhcr', 3, 'UNHCR', 'asylum applications', 'countries of asylum', 'origins'),
        ('unhcr_asylum_decisions', 'unhcr', 3, 'UNHCR', 'asylum decisions', 'countries of asylum', 'origins'),
        ('ru_mfa_published', 'ru_mfa_published', 4, 'Russian MFA (as reported)', 'visas issued', 'issuer', 'recipient countries')
),
-- One scan of observations: what each dataset has per year and pair of
-- countries.
o AS (
    SELECT dataset, year, reporter, partner,
           count(*) FILTER (WHERE NOT period_complete) AS partial_figures,
           max(regexp_extract(period_label, '\((.*)\)', 1)) FILTER (WHERE NOT period_complete) AS coverage
    FROM observations
    WHERE value IS NOT NULL
    GROUP BY dataset, year, reporter, partner
),
years AS (
    SELECT DISTINCT dataset, year FROM o
),
year_runs AS (
    SELECT dataset, min(year) AS first_year, max(year) AS last_year
    FROM (SELECT dataset, year, year - row_number() OVER (PARTITION BY dataset ORDER BY year) AS run FROM years)
    GROUP BY dataset, run
),
year_text AS (
    SELECT dataset, min(first_year) AS first_year, max(last_year) AS last_year,
           string_agg(CASE WHEN first_year = last_year THEN CAST(first_year AS VARCHAR) ELSE first_year || '-' || last_year END,
                      ', ' ORDER BY first_year) AS years
    FROM year_runs
    GROUP BY dataset
),
-- The years between two runs: the gaps, named.
gap_text AS (
    SELECT dataset,
           string_agg(CASE WHEN gap_from = gap_to THEN CAST(gap_from AS VARCHAR) ELSE gap_from || '-' || gap_to END,
                      ', ' ORDER BY gap_from) AS missing
    FROM (SELECT dataset, lag(last_year) OVER (PARTITION BY dataset ORDER BY first_year) + 1 AS gap_from,
                 first_year - 1 AS gap_to
          FROM year_runs)
    WHERE gap_from IS NOT NULL
    GROUP BY dataset
),
members AS (
    SELECT DISTINCT o.dataset, 'reporter' AS side, o.year, c.code, c.name
    FROM o JOIN ref_countries c ON c.code = o.reporter AND c.kind = 'country'
    UNION
    SELECT DISTINCT o.dataset, 'partner' AS side, o.year, c.code, c.name
    FROM o JOIN ref_countries c ON c.code = o.partner AND c.kind = 'country'
),
side_totals AS (
    SELECT dataset, side, count(DISTINCT code) AS countries, string_agg(DISTINCT name, ', ' ORDER BY name) AS names
    FROM members
    GROUP BY dataset, side
),
-- Every year of the dataset on both sides, a year without a single
-- country (aggregates only) included.
per_year AS (
    SELECT y.dataset, s.side, y.year, count(m.code) AS countries,
           list_sort(list(m.code) FILTER (WHERE m.code IS NOT NULL)) AS codes,
           string_agg(m.name, ', ' ORDER BY m.name) AS names
    FROM years y
    CROSS JOIN (VALUES ('reporter'), ('partner')) s(side)
    LEFT JOIN members m ON m.dataset = y.dataset AND m.side = s.side AND m.year = y.year
    GROUP BY y.dataset, s.side, y.year
),
-- Thin years: fewer than half the countries of the best-covered year,
-- grouped into runs of consecutive years with the same countries.
thin AS (
    SELECT p.*
    FROM per_year p
    WHERE p.countries * 2 < (SELECT max(q.countries) FROM per_year q WHERE q.dataset = p.dataset AND q.side = p.side)
),
thin_runs AS (
    SELECT dataset, side, countries, names, min(year) AS first_year, max(year) AS last_year
    FROM (SELECT *, year - row_number() OVER (PARTITION BY dataset, side, codes ORDER BY year) AS run FROM thin)
    GROUP BY dataset, side, codes, countries, names, run
),
thin_text AS (
    SELECT dataset, side,
           string_agg(CASE WHEN first_year = last_year THEN CAST(first_year AS VARCHAR) ELSE first_year || '-' || last_year END
                      || ': ' || CASE WHEN countries = 0 THEN 'totals only, no single country'
                                      WHEN countries <= 3 THEN names || ' only'
                                      ELSE countries || ' only' END,
                      '; ' ORDER BY first_year) AS thin
    FROM thin_runs
    GROUP BY dataset, side
),
partial_text AS (
    SELECT dataset,
           string_agg(year || ' (' || figures || CASE WHEN figures = 1 THEN ' figure' ELSE ' figures' END || ' ' || coverage || ' only)',
                      ', ' ORDER BY year) AS partial
    FROM (SELECT dataset, year, sum(partial_figures) AS figures, max(coverage) AS coverage
          FROM o WHERE partial_figures > 0 GROUP BY dataset, year)
    GROUP BY dataset
),
dataset_lines AS (
    SELECT y.dataset,
           coalesce(d.source, y.dataset) AS source,
           coalesce(d.source_order, 9) AS source_order,
           coalesce(d.source_label, y.dataset) AS source_label,
           y.first_year, y.last_year, g.missing,
           coalesce(d.dataset_label, y.dataset) || ' ' || y.years
           || coalesce(' (no ' || g.missing || ')', '')
           || coalesce(', ' || CASE WHEN r.countries <= 3 THEN coalesce(d.reporter_word, 'reporting countries') || ': ' || r.names
                                    ELSE r.countries || ' ' || coalesce(d.reporter_word, 'reporting countries') END
                       || coalesce(' (' || rt.thin || ')', ''), '')
           || coalesce(', ' || CASE WHEN p.countries <= 3 THEN coalesce(d.partner_word, 'partner countries') || ': ' || p.names
                                    ELSE p.countries || ' ' || coalesce(d.partner_word, 'partner countries') END
                       || coalesce(' (' || pt.thin || ')', ''), '')
           || coalesce('; part of a year only: ' || pa.partial, '') AS line
    FROM year_text y
    LEFT JOIN datasets d ON d.dataset = y.dataset
    LEFT JOIN gap_text g ON g.dataset = y.dataset
    LEFT JOIN side_totals r ON r.dataset = y.dataset AND r.side = 'reporter'
    LEFT JOIN thin_text rt ON rt.dataset = y.dataset AND rt.side = 'reporter'
    LEFT JOIN side_totals p ON p.dataset = y.dataset AND p.side = 'partner'
    LEFT JOIN thin_text pt ON pt.dataset = y.dataset AND pt.side = 'partner'
    LEFT JOIN partial_text pa ON pa.dataset = y.dataset
)
SELECT
    source,
    source_label,
    min(first_year) AS first_year,
    max(last_year) AS last_year,
    string_agg(dataset, ', ' ORDER BY dataset) AS datasets,
    source_label || ': ' || string_agg(line, '; ' ORDER BY dataset) AS line
FROM dataset_lines
GROUP BY source, source_order, source_label
ORDER BY source_order, source;
