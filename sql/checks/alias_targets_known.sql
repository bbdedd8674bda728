-- Purpose: every alias in the crosswalk points to a code of ref_countries, and
--          no spelling maps to two codes within one scheme.
-- Severity: blocking
-- After: name_key
-- Returns: one row per broken alias.
SELECT a.file, a.line, a.scheme, a.alias, a.code,
       CASE WHEN c.code IS NULL THEN 'code not in countries.csv' ELSE 'alias maps to more than one code' END AS problem
FROM ref_country_aliases a
LEFT JOIN ref_countries c ON c.code = a.code
WHERE c.code IS NULL
   OR (a.scheme, name_key(a.alias)) IN (
        SELECT (scheme, name_key(alias)) FROM ref_country_aliases
        GROUP BY scheme, name_key(alias) HAVING count(DISTINCT code) > 1)
ORDER BY a.file, a.line;
