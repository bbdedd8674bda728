-- Purpose: every country spelling in the inputs maps to a code; an unmapped
--          name must be added to data/reference/country_aliases_*.csv.
-- Severity: blocking
-- After: ec_country_codes
-- Returns: one row per unmapped spelling (problem), with the file it is in.
SELECT 'ec_schengen_consulates' AS source, file, role AS field, spelling AS value
FROM ec_country_codes
WHERE code IS NULL
ORDER BY file, role, spelling;
