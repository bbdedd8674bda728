-- Purpose: visas issued by Russia as published by its Foreign Ministry and
--          cited by news agencies (curated, one published number a row); the
--          citations stay in the ru_mfa_visas_published mart.
-- Inputs:  raw_ru_mfa_published, country_code, inputs.
-- Grain:   one row per indicator, recipient and year.
INSERT INTO observations_stored BY NAME
WITH coded AS (
    SELECT r.*,
           country_code('ru_mfa_published', 'issuer', r.issuer, r.file) AS reporter,
           country_code('ru_mfa_published', 'recipient', r.recipient, r.file) AS partner,
           left(i.sha256, 12) AS release
    FROM raw_ru_mfa_published r
    JOIN inputs i ON i.source = 'ru_mfa_published' AND i.path = r.file
)
SELECT
    'ru_mfa_published' AS dataset,
    indicator,
    reporter,
    partner,
    CASE WHEN partner = 'WORLD' THEN 'world' ELSE 'citizenship' END AS partner_role,
    CAST(year AS VARCHAR) AS period,
    year,
    value,
    release
FROM coded;
