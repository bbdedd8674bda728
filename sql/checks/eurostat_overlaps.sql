-- Purpose: list numbers published by more than one Eurostat file whose
--          values or flags disagree (the newer format is the one published in
--          observations); agreeing overlaps are not listed.
-- Severity: warning
-- Returns: one row per disagreeing key (first 100).
SELECT dataset, citizen, geo, period, sex, age, applicant, decision,
       count(DISTINCT file) AS files,
       string_agg(DISTINCT coalesce(CAST(value AS VARCHAR), ':') || flags, ' / ') AS values_published
FROM (
    SELECT r.*, g.code AS geo_code, c.code AS citizen_code
    FROM raw_eurostat_asylum r
    JOIN country_codes g ON g.source = 'eurostat_asylum' AND g.field = 'geo' AND g.spelling = r.geo AND g.file = r.file
    JOIN country_codes c ON c.source = 'eurostat_asylum' AND c.field = 'citizen' AND c.spelling = r.citizen AND c.file = r.file
)
GROUP BY dataset, citizen_code, geo_code, citizen, geo, period, sex, age, applicant, decision
HAVING count(DISTINCT file) > 1
   AND count(DISTINCT coalesce(CAST(value AS VARCHAR), ':') || '|' || flags) > 1
ORDER BY ALL
LIMIT 100;
