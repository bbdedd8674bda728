-- Purpose: list numbers published by more than one Eurostat file whose
--          values or flags disagree (the file that ranks first is the one
--          published in observations, see eurostat_superseded); agreeing
--          overlaps are not listed. Files of different codings overlap on the
--          indicator (TOTAL_POS in one, POS in the other).
-- Severity: warning
-- Returns: one row per disagreeing key (first 100).
SELECT s.dataset, s.indicator, s.reporter, s.partner, p.period, s.sex, s.age,
       string_agg(DISTINCT s.applicant_type || '/' || s.decision, ' ') AS codes,
       count(DISTINCT s.file) AS files,
       string_agg(DISTINCT coalesce(CAST(c.value AS VARCHAR), ':') || f.flags, ' / ') AS values_published
FROM eurostat_series s
JOIN raw_eurostat_cells c USING (series_id)
JOIN raw_eurostat_periods p USING (period_id)
JOIN raw_eurostat_flags f USING (flag_id)
WHERE s.key_repeated
GROUP BY s.dataset, s.indicator, s.reporter, s.partner, p.period, s.sex, s.age
HAVING count(DISTINCT s.file) > 1
   AND count(DISTINCT coalesce(CAST(c.value AS VARCHAR), ':') || '|' || f.flags) > 1
ORDER BY ALL
LIMIT 100;
