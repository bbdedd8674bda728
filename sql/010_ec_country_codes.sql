-- Purpose: map every spelling of a Schengen State or host country in the EC
--          consulate workbooks to its code in ref_countries.
-- Inputs:  raw_ec_schengen_consulates, ref_country_aliases (scheme ec_name).
-- Grain:   one row per role, spelling and file; code is NULL when the spelling
--          is not in the crosswalk (the unmapped_countries check then fails).
CREATE OR REPLACE TABLE ec_country_codes AS
WITH spellings AS (
    SELECT DISTINCT 'schengen_state' AS role, schengen_state AS spelling, file
    FROM raw_ec_schengen_consulates
    UNION
    SELECT DISTINCT 'host_country' AS role, host_country AS spelling, file
    FROM raw_ec_schengen_consulates
),
aliases AS (
    SELECT DISTINCT name_key(alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme = 'ec_name'
)
SELECT s.role, s.spelling, s.file, a.code
FROM spellings s
LEFT JOIN aliases a ON a.k = name_key(s.spelling);
