-- Purpose: codes for the Schengen States and host countries of the EC
--          consulate workbooks. A name (scheme ec_name) maps through an
--          ec_name alias line first, else through a name derived from the
--          ISO 3166 reference when it means one country. A Schengen State
--          written as two letters (the 2010 workbook: AT, BE, EL, ...) is a
--          code (scheme eu_code): an eu_code alias line first (the EU's own
--          codes, EL for Greece and UK for the United Kingdom), else the ISO
--          3166 alpha-2 code of a country. Host countries are never read as
--          codes: a host country spelled NO stays unmapped, with Norway as
--          the candidate, until an ec_name alias line says what it is.
--          consulates keeps the towns of the rows, the evidence a
--          maintainer reads before deciding an unmapped spelling.
-- Inputs:  alias_key, raw_ec_schengen_consulates, ref_country_aliases
--          (schemes ec_name, eu_code), ref_countries, country_names.
-- Grain:   one row per field (schengen_state, host_country), spelling, file.
INSERT INTO country_codes
WITH input_rows AS (
    SELECT 'schengen_state' AS field, schengen_state AS spelling, file, consulate FROM raw_ec_schengen_consulates
    UNION ALL
    SELECT 'host_country', host_country, file, consulate FROM raw_ec_schengen_consulates
),
spellings AS (
    SELECT field, spelling, file, count(*) AS n,
           CASE WHEN field = 'schengen_state' AND regexp_full_match(trim(spelling), '[A-Za-z]{2}')
                THEN 'eu_code' ELSE 'ec_name' END AS scheme,
           list_sort(list(DISTINCT trim(consulate)) FILTER (WHERE trim(consulate) <> '')) AS consulates
    FROM input_rows
    GROUP BY field, spelling, file
),
keys AS (
    -- the join keys, NULL where a way of matching does not apply (plain
    -- equality joins: DuckDB hashes them)
    SELECT *, alias_key(scheme, spelling) AS k,
           CASE WHEN scheme = 'eu_code' THEN alias_key(scheme, spelling) END AS code_k,
           CASE WHEN scheme = 'ec_name' THEN name_key(spelling) END AS name_k,
           CASE WHEN scheme = 'ec_name' AND regexp_full_match(trim(spelling), '[A-Za-z]{2}')
                THEN alias_key('eu_code', spelling) END AS host_code_k
    FROM spellings
),
aliases AS (
    SELECT DISTINCT scheme, alias_key(scheme, alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme IN ('ec_name', 'eu_code')
),
iso_codes AS (
    SELECT alias_key('eu_code', code) AS k, code, name
    FROM ref_countries
    WHERE kind = 'country'
)
SELECT 'ec_schengen_consulates', s.field, s.scheme, s.spelling, s.file, s.n,
       coalesce(a.code, i.code, d.code),
       CASE WHEN a.code IS NOT NULL THEN 'alias'
            WHEN i.code IS NOT NULL THEN 'iso_code'
            WHEN d.code IS NOT NULL THEN 'iso_name' END,
       CASE WHEN coalesce(a.code, i.code, d.code) IS NULL
            THEN coalesce(d.candidates, h.code || ' (' || h.name || ') if read as an ISO code, which only the Schengen State field is') END,
       s.consulates
FROM keys s
LEFT JOIN aliases a ON a.scheme = s.scheme AND a.k = s.k
LEFT JOIN iso_codes i ON i.k = s.code_k
LEFT JOIN country_names d ON d.key = s.name_k
LEFT JOIN iso_codes h ON h.k = s.host_code_k;
