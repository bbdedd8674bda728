-- Purpose: codes for the countries of origin and asylum of the UNHCR tables,
--          joined on UNHCR's ISO alpha-3 columns (coo_iso/coa_iso), never on
--          UNHCR's own codes (AUS is Austria there). An ISO alpha-3 code of
--          ref_countries maps without an alias; the aliases add UNHCR's
--          codes that are not ISO (XXA stateless, UNK unknown, "-" all).
-- Inputs:  alias_key, raw_unhcr_asylum_applications, raw_unhcr_asylum_decisions,
--          ref_country_aliases (scheme iso3), ref_countries.
-- Grain:   one row per field (origin_iso, asylum_iso), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT field, spelling, file, sum(n) AS n FROM (
        SELECT 'origin_iso' AS field, origin_iso AS spelling, file, count(*) AS n FROM raw_unhcr_asylum_applications GROUP BY ALL
        UNION ALL
        SELECT 'asylum_iso', asylum_iso, file, count(*) FROM raw_unhcr_asylum_applications GROUP BY ALL
        UNION ALL
        SELECT 'origin_iso', origin_iso, file, count(*) FROM raw_unhcr_asylum_decisions GROUP BY ALL
        UNION ALL
        SELECT 'asylum_iso', asylum_iso, file, count(*) FROM raw_unhcr_asylum_decisions GROUP BY ALL
    ) GROUP BY ALL
),
aliases AS (
    SELECT DISTINCT alias_key(scheme, alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme = 'iso3'
    UNION
    SELECT alias_key('iso3', iso3), code
    FROM ref_countries
    WHERE iso3 <> ''
      AND alias_key('iso3', iso3) NOT IN (SELECT alias_key(scheme, alias) FROM ref_country_aliases WHERE scheme = 'iso3')
)
SELECT 'unhcr', s.field, 'iso3', s.spelling, s.file, s.n, a.code,
       CASE WHEN a.code IS NOT NULL THEN 'alias' END, NULL, NULL
FROM spellings s
LEFT JOIN aliases a ON a.k = alias_key('iso3', s.spelling);
