-- Purpose: the country names derived from the full ISO 3166 reference, so that
--          a source spelling an official, common, withdrawn or former ISO name
--          maps without an alias line. Each ISO name (ref_country_names) and
--          each reference name of a country (ref_countries) gives: itself; the
--          part before its first comma ("Palestine, State of" -> PALESTINE);
--          for one comma, the two parts swapped ("Congo, The Democratic
--          Republic of the" -> THE DEMOCRATIC REPUBLIC OF THE CONGO); and the
--          part before a parenthesis ("Holy See (Vatican City State)" -> HOLY
--          SEE). A key derived for two codes (CONGO from CG and CD) is
--          ambiguous: code is NULL and candidates lists them; only an explicit
--          alias line maps it. Explicit aliases always win (01x files).
-- Inputs:  ref_country_names, ref_countries.
-- Grain:   one row per name key.
CREATE OR REPLACE TABLE country_names AS
WITH names AS (
    SELECT code, name, kind FROM ref_country_names
    UNION
    SELECT code, name, 'reference_name' FROM ref_countries WHERE kind = 'country'
),
forms AS (
    SELECT code, name, kind, name AS form FROM names
    UNION ALL
    SELECT code, name, kind, split_part(name, ',', 1) FROM names WHERE name LIKE '%,%'
    UNION ALL
    SELECT code, name, kind, split_part(name, ',', 2) || ' ' || split_part(name, ',', 1)
    FROM names WHERE length(name) - length(replace(name, ',', '')) = 1
    UNION ALL
    SELECT code, name, kind, split_part(name, '(', 1) FROM names WHERE name LIKE '%(%'
),
per_code AS (
    -- one name per key and code to show, the ISO short name first
    SELECT name_key(form) AS key, code,
           arg_min(name, CASE kind WHEN 'iso_name' THEN 0 WHEN 'reference_name' THEN 1
                                   WHEN 'common_name' THEN 2 WHEN 'official_name' THEN 3 ELSE 4 END) AS name
    FROM forms
    WHERE name_key(form) <> ''
    GROUP BY ALL
)
SELECT key,
       CASE WHEN count(*) = 1 THEN any_value(code) END AS code,
       string_agg(code || ' (' || name || ')', ' or ' ORDER BY code) AS candidates
FROM per_code
GROUP BY key;
