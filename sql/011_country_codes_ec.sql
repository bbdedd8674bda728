-- Purpose: codes for the Schengen States and host countries of the EC
--          consulate workbooks.
-- Inputs:  raw_ec_schengen_consulates, ref_country_aliases (scheme ec_name).
-- Grain:   one row per field (schengen_state, host_country), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT DISTINCT 'schengen_state' AS field, schengen_state AS spelling, file
    FROM raw_ec_schengen_consulates
    UNION
    SELECT DISTINCT 'host_country' AS field, host_country AS spelling, file
    FROM raw_ec_schengen_consulates
),
aliases AS (
    SELECT DISTINCT name_key(alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme = 'ec_name'
)
SELECT 'ec_schengen_consulates', s.field, 'ec_name', s.spelling, s.file, a.code
FROM spellings s
LEFT JOIN aliases a ON a.k = name_key(s.spelling);
