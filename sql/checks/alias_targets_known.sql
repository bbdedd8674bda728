-- Purpose: every alias in the crosswalk and every ISO 3166 name points to a
--          code of ref_countries; no spelling maps to two codes within one
--          scheme of the alias files (ISO names may: such a name is
--          ambiguous and maps only through an alias line, see
--          country_names); and an alias line that decides what the ISO
--          reference leaves open or says otherwise (a name that country_names
--          gives to several codes or to another code, a code that is another
--          country's ISO code) says why in its note, so that the decision
--          and its evidence are read where the line is. Alias files without
--          a note column (note NULL) are not held to the last rule.
-- Severity: blocking
-- After: alias_key
-- Returns: one row per broken alias or name.
WITH aliases AS (
    SELECT a.*, alias_key(a.scheme, a.alias) AS k,
           -- code schemes as alias_key reads them
           a.scheme = 'iso3' OR suffix(a.scheme, '_code') AS is_code
    FROM ref_country_aliases a
),
twice AS (
    SELECT scheme, k FROM aliases GROUP BY scheme, k HAVING count(DISTINCT code) > 1
),
overrides AS (
    SELECT a.file, a.line,
           CASE WHEN d.code IS NULL THEN 'an ISO name of ' || d.candidates
                ELSE 'an ISO name of ' || d.code END AS what
    FROM aliases a
    JOIN country_names d ON NOT a.is_code AND d.key = a.k AND d.code IS DISTINCT FROM a.code
    UNION ALL
    SELECT a.file, a.line, 'the ISO code of ' || r.code || ' (' || r.name || ')'
    FROM aliases a
    JOIN ref_countries r ON a.is_code AND r.code = a.k AND r.code <> a.code
)
SELECT a.file, a.line, a.scheme, a.alias, a.code,
       CASE WHEN c.code IS NULL THEN 'code not in countries.csv'
            WHEN t.k IS NOT NULL THEN 'alias maps to more than one code'
            ELSE 'the spelling is ' || o.what || ': write why it means ' || a.code || ' in the line''s note' END AS problem
FROM aliases a
LEFT JOIN ref_countries c ON c.code = a.code
LEFT JOIN twice t ON t.scheme = a.scheme AND t.k = a.k
LEFT JOIN overrides o ON o.file = a.file AND o.line = a.line
WHERE c.code IS NULL OR t.k IS NOT NULL OR (o.file IS NOT NULL AND trim(a.note) = '')
UNION ALL
SELECT n.file, n.line, n.kind, n.name, n.code, 'code not in countries.csv'
FROM ref_country_names n
ANTI JOIN ref_countries c ON c.code = n.code
ORDER BY 1, 2;
