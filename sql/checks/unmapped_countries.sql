-- Purpose: every country spelling in the inputs maps to a code. Lists every
--          distinct unmapped spelling once, with the input rows and files
--          that use it, why it is unmapped (no alias and no ISO 3166 name
--          or code matches, or the spelling could mean several countries,
--          with the candidates), for the EC workbooks the consulate towns of
--          those rows (the evidence to decide on: the first ten, and how
--          many more), and the alias line to add where. A line that decides
--          between candidates needs its reason in the note column (see
--          alias_targets_known).
-- Severity: blocking
-- After: observations_stored
-- Show: all
-- Returns: one row per unmapped spelling (problem).
WITH alias_files AS (
    SELECT scheme, min(file) AS file FROM ref_country_aliases GROUP BY scheme
),
unmapped AS (
    SELECT c.source, c.field, c.scheme, c.spelling, sum(c.n_rows) AS n_rows,
           string_agg(DISTINCT c.file, ', ' ORDER BY c.file) AS files,
           any_value(c.candidates) AS candidates,
           list_sort(list_distinct(flatten(list(c.consulates) FILTER (WHERE c.consulates IS NOT NULL)))) AS consulates
    FROM country_codes c
    WHERE c.code IS NULL
    GROUP BY c.source, c.field, c.scheme, c.spelling
)
SELECT u.source, u.field, u.spelling AS value, u.n_rows AS rows, u.files,
       CASE WHEN u.candidates IS NOT NULL THEN 'ambiguous: could be ' || u.candidates
            -- code schemes as alias_key reads them
            WHEN u.scheme = 'iso3' OR suffix(u.scheme, '_code') THEN 'no alias line and no ISO 3166 code matches'
            ELSE 'no alias line and no ISO 3166 name matches' END
         || CASE WHEN len(u.consulates) > 0
                 THEN '; consulates in ' || array_to_string(u.consulates[1:10], ', ')
                      || CASE WHEN len(u.consulates) > 10 THEN ' and ' || CAST(len(u.consulates) - 10 AS VARCHAR) || ' more' ELSE '' END
                 ELSE '' END AS problem,
       'add the line ' || u.scheme || ','
         || CASE WHEN u.spelling LIKE '%,%' OR u.spelling LIKE '%"%'
                 THEN '"' || replace(u.spelling, '"', '""') || '"' ELSE u.spelling END
         || ',<code>' || CASE WHEN u.candidates IS NOT NULL THEN ',<why>' ELSE '' END
         || ' to ' || coalesce(f.file, 'data/reference/country_aliases_' || u.source || '.csv') AS fix
FROM unmapped u
LEFT JOIN alias_files f ON f.scheme = u.scheme
ORDER BY u.source, u.field, u.spelling;
