-- Purpose: every Eurostat series (one published combination of dimensions in
--          one file) with the codes observations uses: the indicator, from the
--          code list (ref_eurostat_codes maps both applicant codings, asyl_app
--          ASY_APP/NASY_APP and applicant TOTAL/FRST/SSEQ, and both decision
--          generations, TOTAL_POS/GENCONV/... and POS/POS_RFG/..., onto one
--          vocabulary), reporting country and citizenship as ISO / Eurostat
--          codes, applicant type and decision as published, the release (input
--          hash), the file's rank for overlaps (current coding before legacy
--          coding, then SDMX-CSV before API TSV before legacy export), and
--          whether another series counts the same thing (key_repeated: two
--          files, or two codings, publishing the same numbers).
--          Counts of persons only (unit PER; the eurostat_units check stops a
--          release with any other unit).
-- Inputs:  raw_eurostat_series, ref_eurostat_codes, country_codes, inputs.
-- Grain:   one row per series_id.
CREATE OR REPLACE TABLE eurostat_series AS
WITH coded AS (
SELECT
    s.series_id,
    'eurostat_' || s.dataset AS dataset,
    -- The loader accepts only listed codes, so the join always matches.
    coalesce(k.indicator, error('eurostat code ' || s.applicant || s.decision || ' of ' || s.file || ' has no indicator in ref_eurostat_codes')) AS indicator,
    g.code AS reporter,
    c.code AS partner,
    s.sex,
    s.age,
    CASE WHEN s.applicant = '' THEN 'TOTAL' ELSE s.applicant END AS applicant_type,
    CASE WHEN s.decision = '' THEN 'TOTAL' ELSE s.decision END AS decision,
    k.generation,
    left(i.sha256, 12) AS release,
    CASE s.format WHEN 'sdmx_csv' THEN 1 WHEN 'tsv' THEN 2 ELSE 3 END AS format_rank,
    s.file
FROM raw_eurostat_series s
LEFT JOIN ref_eurostat_codes k
       ON k.dimension = CASE WHEN s.applicant <> '' THEN 'applicant' ELSE 'decision' END
      AND k.code = CASE WHEN s.applicant <> '' THEN s.applicant ELSE s.decision END
JOIN country_codes g ON g.source = 'eurostat_asylum' AND g.field = 'geo' AND g.spelling = s.geo AND g.file = s.file
JOIN country_codes c ON c.source = 'eurostat_asylum' AND c.field = 'citizen' AND c.spelling = s.citizen AND c.file = s.file
JOIN inputs i ON i.source = 'eurostat_asylum' AND i.path = s.file
WHERE s.unit = 'PER'
)
SELECT * EXCLUDE (generation),
       -- A file is of the current coding when any of its codes is (codes
       -- of both generations, such as TOTAL, say nothing); it ranks first.
       CASE WHEN bool_or(generation = 'current') OVER (PARTITION BY file) THEN 1 ELSE 2 END AS generation_rank,
       count(*) OVER (PARTITION BY dataset, indicator, reporter, partner, sex, age) > 1 AS key_repeated
FROM coded;
