-- Purpose: the Eurostat asylum figures are counts of persons (unit PER);
--          a file in another unit would be dropped from observations, so it
--          stops the release instead.
-- Severity: blocking
-- Returns: one row per file and unit other than PER.
SELECT file, unit, count(*) AS series
FROM raw_eurostat_series
WHERE unit <> 'PER'
GROUP BY ALL
ORDER BY ALL;
