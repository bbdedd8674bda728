-- Purpose: every country spelling in the inputs maps to a code. Lists every
--          distinct unmapped spelling once, with the input rows and files
--          that use it, why it is unmapped (no alias and no ISO 3166 name
--          matches, or an ISO-derived name that could mean several
--          countries, with the candidates) and the alias file to edit.
-- Severity: blocking
-- After: observations_stored
-- Show: all
-- Returns: one row per unmapped spelling (problem).
WITH alias_files AS (
    SELECT scheme, min(file) AS file FROM ref_country_aliases GROUP BY scheme
)
SELECT c.source, c.field, c.spelling AS value, sum(c.n_rows) AS rows,
       string_agg(DISTINCT c.file, ', ' ORDER BY c.file) AS files,
       CASE WHEN any_value(c.candidates) IS NOT NULL
            THEN 'ambiguous: could be ' || any_value(c.candidates)
            ELSE 'no alias line and no ISO 3166 name matches' END AS problem,
       'add the line ' || c.scheme || ','
         || CASE WHEN c.spelling LIKE '%,%' OR c.spelling LIKE '%"%'
                 THEN '"' || replace(c.spelling, '"', '""') || '"' ELSE c.spelling END
         || ',<code> to ' || coalesce(f.file, 'data/reference/country_aliases_' || c.source || '.csv') AS fix
FROM country_codes c
LEFT JOIN alias_files f ON f.scheme = c.scheme
WHERE c.code IS NULL
GROUP BY c.source, c.field, c.scheme, c.spelling, f.file
ORDER BY c.source, c.field, c.spelling;
