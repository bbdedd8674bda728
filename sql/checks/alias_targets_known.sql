-- Purpose: every alias in the crosswalk and every ISO 3166 name points to a
--          code of ref_countries, and no spelling maps to two codes within
--          one scheme of the alias files (ISO names may: such a name is
--          ambiguous and maps only through an alias line, see country_names).
-- Severity: blocking
-- After: alias_key
-- Returns: one row per broken alias or name.
SELECT a.file, a.line, a.scheme, a.alias, a.code,
       CASE WHEN c.code IS NULL THEN 'code not in countries.csv' ELSE 'alias maps to more than one code' END AS problem
FROM ref_country_aliases a
LEFT JOIN ref_countries c ON c.code = a.code
WHERE c.code IS NULL
   OR (a.scheme, alias_key(a.scheme, a.alias)) IN (
        SELECT (scheme, alias_key(scheme, alias)) FROM ref_country_aliases
        GROUP BY scheme, alias_key(scheme, alias) HAVING count(DISTINCT code) > 1)
UNION ALL
SELECT n.file, n.line, n.kind, n.name, n.code, 'code not in countries.csv'
FROM ref_country_names n
ANTI JOIN ref_countries c ON c.code = n.code
ORDER BY 1, 2;
