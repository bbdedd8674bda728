-- Purpose: codes for the Schengen States and host countries of the EC
--          consulate workbooks: an ec_name alias line first, else a name
--          derived from the ISO 3166 reference when it means one country.
-- Inputs:  raw_ec_schengen_consulates, ref_country_aliases (scheme ec_name),
--          country_names.
-- Grain:   one row per field (schengen_state, host_country), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT 'schengen_state' AS field, schengen_state AS spelling, file, count(*) AS n
    FROM raw_ec_schengen_consulates GROUP BY ALL
    UNION ALL
    SELECT 'host_country', host_country, file, count(*)
    FROM raw_ec_schengen_consulates GROUP BY ALL
),
aliases AS (
    SELECT DISTINCT name_key(alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme = 'ec_name'
)
SELECT 'ec_schengen_consulates', s.field, 'ec_name', s.spelling, s.file, s.n,
       coalesce(a.code, d.code),
       CASE WHEN a.code IS NOT NULL THEN 'alias' WHEN d.code IS NOT NULL THEN 'iso_name' END,
       CASE WHEN a.code IS NULL AND d.code IS NULL THEN d.candidates END
FROM spellings s
LEFT JOIN aliases a ON a.k = name_key(s.spelling)
LEFT JOIN country_names d ON d.key = name_key(s.spelling);
