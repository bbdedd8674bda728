-- Purpose: UNHCR asylum applications as observations. UNHCR publishes them per
--          authority, application type and stage of procedure; they are summed
--          over those here (the raw table keeps them), and persons and cases
--          are kept apart as two indicators (asylum_applicants counts persons,
--          asylum_applicant_cases counts cases): they are never added up.
-- Inputs:  raw_unhcr_asylum_applications, country_codes, inputs.
-- Grain:   one row per country of asylum, origin, year and unit (P/C).
INSERT INTO observations_stored
SELECT
    'unhcr_asylum_applications' AS dataset,
    CASE r.cases_persons WHEN 'P' THEN 'asylum_applicants' ELSE 'asylum_applicant_cases' END AS indicator,
    a.code AS reporter,
    o.code AS partner,
    'origin' AS partner_role,
    '' AS location,
    CAST(r.year AS VARCHAR) AS period,
    r.year,
    CAST(NULL AS INTEGER) AS month,
    'TOTAL' AS sex,
    'TOTAL' AS age,
    'TOTAL' AS applicant_type,
    'TOTAL' AS decision,
    sum(r.applied) AS value,
    '' AS flags,
    left(i.sha256, 12) AS release
FROM raw_unhcr_asylum_applications r
JOIN country_codes a ON a.source = 'unhcr' AND a.field = 'asylum_iso' AND a.spelling = r.asylum_iso AND a.file = r.file
JOIN country_codes o ON o.source = 'unhcr' AND o.field = 'origin_iso' AND o.spelling = r.origin_iso AND o.file = r.file
JOIN inputs i ON i.source = 'unhcr' AND i.path = r.file
GROUP BY ALL;
