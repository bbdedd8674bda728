-- Purpose: codes for the issuers and recipients of the curated Russian MFA
--          figures.
-- Inputs:  raw_ru_mfa_published, ref_country_aliases (scheme mfa).
-- Grain:   one row per field (issuer, recipient), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT 'issuer' AS field, issuer AS spelling, file, count(*) AS n FROM raw_ru_mfa_published GROUP BY ALL
    UNION ALL
    SELECT 'recipient', recipient, file, count(*) FROM raw_ru_mfa_published GROUP BY ALL
),
aliases AS (
    SELECT DISTINCT name_key(alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme = 'mfa'
)
SELECT 'ru_mfa_published', s.field, 'mfa', s.spelling, s.file, s.n, a.code,
       CASE WHEN a.code IS NOT NULL THEN 'alias' END, NULL, NULL
FROM spellings s
LEFT JOIN aliases a ON a.k = name_key(s.spelling);
