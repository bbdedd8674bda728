-- Purpose: every Eurostat series (one published combination of dimensions in
--          one file) with the codes observations uses: indicator, reporting
--          country and citizenship as ISO / Eurostat codes, applicant type and
--          decision, the release (input hash) and the rank of its file's
--          format for overlaps (SDMX-CSV before API TSV before legacy export),
--          and whether another series has the same coded key (key_repeated:
--          two files publishing the same numbers).
--          Counts of persons only (unit PER; the eurostat_units check stops a
--          release with any other unit).
-- Inputs:  raw_eurostat_series, country_codes, inputs.
-- Grain:   one row per series_id.
CREATE OR REPLACE TABLE eurostat_series AS
WITH coded AS (
SELECT
    s.series_id,
    'eurostat_' || s.dataset AS dataset,
    CASE
        WHEN s.applicant IN ('ASY_APP', 'TOTAL') THEN 'asylum_applicants'
        WHEN s.applicant IN ('NASY_APP', 'FRST') THEN 'first_time_applicants'
        WHEN s.applicant = 'SUBS' THEN 'subsequent_applicants'
        WHEN s.decision = 'TOTAL' THEN 'decisions_total'
        WHEN s.decision = 'TOTAL_POS' THEN 'decisions_positive'
        WHEN s.decision = 'REJECTED' THEN 'decisions_rejected'
        WHEN s.decision <> '' THEN 'decisions_' || lower(s.decision)
        ELSE 'asylum_' || lower(s.applicant)
    END AS indicator,
    g.code AS reporter,
    c.code AS partner,
    s.sex,
    s.age,
    CASE WHEN s.applicant = '' THEN 'TOTAL' ELSE s.applicant END AS applicant_type,
    CASE WHEN s.decision = '' THEN 'TOTAL' ELSE s.decision END AS decision,
    left(i.sha256, 12) AS release,
    CASE s.format WHEN 'sdmx_csv' THEN 1 WHEN 'tsv' THEN 2 ELSE 3 END AS format_rank,
    s.file
FROM raw_eurostat_series s
JOIN country_codes g ON g.source = 'eurostat_asylum' AND g.field = 'geo' AND g.spelling = s.geo AND g.file = s.file
JOIN country_codes c ON c.source = 'eurostat_asylum' AND c.field = 'citizen' AND c.spelling = s.citizen AND c.file = s.file
JOIN inputs i ON i.source = 'eurostat_asylum' AND i.path = s.file
WHERE s.unit = 'PER'
)
SELECT *,
       count(*) OVER (PARTITION BY dataset, indicator, reporter, partner, sex, age, applicant_type, decision) > 1 AS key_repeated
FROM coded;
