-- Purpose: the periods that an input covers only in part, with the months it
--          covers and where that is known from. Two kinds of knowledge:
--          a UNHCR input whose release runs to a day before 31 December (a
--          mid-year release: data_through 30 June) covers that year from
--          January to that month (unhcr_input_releases, from the releases
--          file, the release calendar for an API page, or an export's
--          extraction date); and any input of any source
--          can be stated to cover part of a year in the curated file
--          data/curated/period_coverage.csv, keyed by the input's SHA-256
--          (coverage_statements matches them to the inputs). A period not
--          listed is complete as published.
-- Inputs:  coverage_statements, unhcr_input_releases.
-- Grain:   one row per input (release) and year.
CREATE OR REPLACE TABLE period_coverage AS
WITH stated AS (
    SELECT sha256, source, path, year, first_month, last_month, known_from
    FROM coverage_statements
    UNION ALL
    SELECT r.sha256, 'unhcr', r.input_path, year(r.data_through), 1, m.last_month,
           r.release || ': its figures run to ' || strftime(r.data_through, '%Y-%m-%d') || ' (' || r.known_from || ')'
    FROM unhcr_input_releases r
    -- The last whole month covered: a release that runs to a day before the
    -- end of a month does not cover that month.
    CROSS JOIN LATERAL (
        SELECT CASE WHEN last_day(r.data_through) = r.data_through THEN month(r.data_through)
                    ELSE month(r.data_through) - 1 END AS last_month
    ) m
    WHERE r.data_through IS NOT NULL AND m.last_month BETWEEN 1 AND 11
)
SELECT
    left(sha256, 12) AS release,
    source,
    regexp_extract(path, '[^/]+$') AS file,
    year,
    CAST(year AS VARCHAR) AS period,
    first_month,
    last_month,
    strftime(make_date(2000, first_month, 1), '%b') || '-' || strftime(make_date(2000, last_month, 1), '%b') AS coverage,
    known_from
FROM stated
QUALIFY row_number() OVER (PARTITION BY sha256, year ORDER BY last_month) = 1;
