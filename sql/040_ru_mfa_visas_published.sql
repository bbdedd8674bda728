-- Purpose: the Russian Foreign Ministry's published visa totals with their
--          citations (who published the number, where, when, how rounded).
-- Inputs:  raw_ru_mfa_published, country_code, ref_countries.
-- Grain:   one row per published number (indicator, recipient, year, citation).
CREATE OR REPLACE TABLE ru_mfa_visas_published AS
WITH coded AS (
    SELECT r.*,
           country_code('ru_mfa_published', 'issuer', r.issuer, r.file) AS issuer_code,
           country_code('ru_mfa_published', 'recipient', r.recipient, r.file) AS recipient_code
    FROM raw_ru_mfa_published r
)
SELECT
    r.indicator,
    r.issuer_code AS issuer,
    r.recipient_code AS recipient,
    nullif(c.iso3, '') AS recipient_iso3,
    c.name AS recipient_name,
    r.year,
    CAST(r.value AS BIGINT) AS value,
    r.unit,
    r.precision,
    r.source_publisher,
    r.source_title,
    r.source_url,
    r.published,
    r.note
FROM coded r
JOIN ref_countries c ON c.code = r.recipient_code
ORDER BY r.indicator, recipient, r.year, r.source_publisher;
