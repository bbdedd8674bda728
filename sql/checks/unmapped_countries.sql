-- Purpose: every country spelling in the inputs maps to a code; an unmapped
--          name must be added to data/reference/country_aliases_*.csv.
-- Severity: blocking
-- After: observations_stored
-- Returns: one row per unmapped spelling (problem), with the file it is in.
SELECT source, file, field, scheme, spelling AS value
FROM country_codes
WHERE code IS NULL
ORDER BY source, file, field, spelling;
