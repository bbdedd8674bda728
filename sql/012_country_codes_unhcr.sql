-- Purpose: codes for the countries of origin and asylum of the UNHCR tables,
--          joined on UNHCR's ISO alpha-3 columns (coo_iso/coa_iso), never on
--          UNHCR's own codes (AUS is Austria there). An ISO alpha-3 code of
--          ref_countries maps without an alias; the aliases add UNHCR's
--          codes that are not ISO (XXA stateless, UNK unknown, "-" all).
-- Inputs:  raw_unhcr_asylum_applications, raw_unhcr_asylum_decisions,
--          ref_country_aliases (scheme iso3), ref_countries.
-- Grain:   one row per field (origin_iso, asylum_iso), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT DISTINCT 'origin_iso' AS field, origin_iso AS spelling, file FROM raw_unhcr_asylum_applications
    UNION
    SELECT DISTINCT 'asylum_iso', asylum_iso, file FROM raw_unhcr_asylum_applications
    UNION
    SELECT DISTINCT 'origin_iso', origin_iso, file FROM raw_unhcr_asylum_decisions
    UNION
    SELECT DISTINCT 'asylum_iso', asylum_iso, file FROM raw_unhcr_asylum_decisions
),
aliases AS (
    SELECT DISTINCT name_key(alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme = 'iso3'
    UNION
    SELECT name_key(iso3), code
    FROM ref_countries
    WHERE iso3 <> ''
      AND name_key(iso3) NOT IN (SELECT name_key(alias) FROM ref_country_aliases WHERE scheme = 'iso3')
)
SELECT 'unhcr', s.field, 'iso3', s.spelling, s.file, a.code
FROM spellings s
LEFT JOIN aliases a ON a.k = name_key(s.spelling);
