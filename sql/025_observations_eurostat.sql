-- Purpose: Eurostat asylum applicants and first-instance decisions as
--          observations, values and flags exactly as published (':' is NULL,
--          never 0). When two files publish the same number (a legacy export
--          and a newer SDMX extract), the newer format wins; the overlap is
--          listed by the eurostat_overlaps check and both stay in the raw table.
-- Inputs:  raw_eurostat_asylum, country_codes, inputs.
-- Grain:   one row per dataset, indicator, reporting country, citizenship,
--          period, sex, age, applicant type and decision.
INSERT INTO observations
WITH coded AS (
    SELECT
        'eurostat_' || r.dataset AS dataset,
        CASE
            WHEN r.applicant IN ('ASY_APP', 'TOTAL') THEN 'asylum_applicants'
            WHEN r.applicant IN ('NASY_APP', 'FRST') THEN 'first_time_applicants'
            WHEN r.applicant = 'SUBS' THEN 'subsequent_applicants'
            WHEN r.decision = 'TOTAL' THEN 'decisions_total'
            WHEN r.decision = 'TOTAL_POS' THEN 'decisions_positive'
            WHEN r.decision = 'REJECTED' THEN 'decisions_rejected'
            WHEN r.decision <> '' THEN 'decisions_' || lower(r.decision)
            ELSE 'asylum_' || lower(r.applicant)
        END AS indicator,
        g.code AS reporter,
        c.code AS partner,
        r.period,
        CAST(left(r.period, 4) AS INTEGER) AS year,
        CASE WHEN length(r.period) = 7 THEN CAST(right(r.period, 2) AS INTEGER) END AS month,
        r.sex,
        r.age,
        CASE WHEN r.applicant = '' THEN 'TOTAL' ELSE r.applicant END AS applicant_type,
        CASE WHEN r.decision = '' THEN 'TOTAL' ELSE r.decision END AS decision,
        r.value,
        r.flags,
        left(i.sha256, 12) AS release,
        CASE r.format WHEN 'sdmx_csv' THEN 1 WHEN 'tsv' THEN 2 ELSE 3 END AS format_rank,
        r.file
    FROM raw_eurostat_asylum r
    JOIN country_codes g ON g.source = 'eurostat_asylum' AND g.field = 'geo' AND g.spelling = r.geo AND g.file = r.file
    JOIN country_codes c ON c.source = 'eurostat_asylum' AND c.field = 'citizen' AND c.spelling = r.citizen AND c.file = r.file
    JOIN inputs i ON i.source = 'eurostat_asylum' AND i.path = r.file
    WHERE r.unit = 'PER'
)
SELECT dataset, indicator, reporter, partner, 'citizenship' AS partner_role, '' AS location,
       period, year, month, sex, age, applicant_type, decision, value, flags, release
FROM coded
QUALIFY row_number() OVER (
    PARTITION BY dataset, indicator, reporter, partner, period, sex, age, applicant_type, decision
    ORDER BY format_rank, file DESC) = 1;
