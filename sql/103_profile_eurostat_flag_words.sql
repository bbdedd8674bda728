-- Purpose: each combination of Eurostat flags that the asylum marts carry,
--          in words (ref_eurostat_flags), for the notes of the profile
--          charts: "d" is "d = definition differs (see metadata)".
-- Inputs:  asylum_decisions_compared, asylum_citizenship_year,
--          ref_eurostat_flags.
-- Grain:   one row per flags value as published.
CREATE OR REPLACE TABLE profile_eurostat_flag_words AS
WITH flags AS (
    SELECT DISTINCT eurostat_flags AS flags FROM asylum_decisions_compared WHERE eurostat_flags <> ''
    UNION
    SELECT DISTINCT flags FROM asylum_citizenship_year WHERE flags <> ''
)
SELECT f.flags, string_agg(l.letter || ' = ' || l.meaning, '; ' ORDER BY l.letter) AS words
FROM flags f
CROSS JOIN unnest(string_split(f.flags, '')) AS s(letter)
JOIN (SELECT DISTINCT letter, meaning FROM ref_eurostat_flags) l ON l.letter = s.letter
GROUP BY f.flags
ORDER BY f.flags;
