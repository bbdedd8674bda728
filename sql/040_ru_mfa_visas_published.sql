-- Purpose: the Russian Foreign Ministry's published visa totals with their
--          citations (who published the number, where, when, how rounded).
-- Inputs:  raw_ru_mfa_published, country_codes, ref_countries.
-- Grain:   one row per published number (indicator, recipient, year, citation).
CREATE OR REPLACE TABLE ru_mfa_visas_published AS
SELECT
    r.indicator,
    ic.code AS issuer,
    rc.code AS recipient,
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
FROM raw_ru_mfa_published r
JOIN country_codes ic ON ic.source = 'ru_mfa_published' AND ic.field = 'issuer' AND ic.spelling = r.issuer AND ic.file = r.file
JOIN country_codes rc ON rc.source = 'ru_mfa_published' AND rc.field = 'recipient' AND rc.spelling = r.recipient AND rc.file = r.file
JOIN ref_countries c ON c.code = rc.code
ORDER BY r.indicator, recipient, r.year, r.source_publisher;
