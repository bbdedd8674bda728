-- Purpose: visas issued by Russia as published by its Foreign Ministry and
--          cited by news agencies (curated, one published number a row); the
--          citations stay in the ru_mfa_visas_published mart.
-- Inputs:  raw_ru_mfa_published, country_codes, inputs.
-- Grain:   one row per indicator, recipient and year.
INSERT INTO observations_stored
SELECT
    'ru_mfa_published' AS dataset,
    r.indicator,
    i_.code AS reporter,
    rc.code AS partner,
    CASE WHEN rc.code = 'WORLD' THEN 'world' ELSE 'citizenship' END AS partner_role,
    '' AS location,
    CAST(r.year AS VARCHAR) AS period,
    r.year,
    CAST(NULL AS INTEGER) AS month,
    'TOTAL' AS sex,
    'TOTAL' AS age,
    'TOTAL' AS applicant_type,
    'TOTAL' AS decision,
    r.value,
    '' AS flags,
    left(inp.sha256, 12) AS release
FROM raw_ru_mfa_published r
JOIN country_codes i_ ON i_.source = 'ru_mfa_published' AND i_.field = 'issuer' AND i_.spelling = r.issuer AND i_.file = r.file
JOIN country_codes rc ON rc.source = 'ru_mfa_published' AND rc.field = 'recipient' AND rc.spelling = r.recipient AND rc.file = r.file
JOIN inputs inp ON inp.source = 'ru_mfa_published' AND inp.path = r.file;
