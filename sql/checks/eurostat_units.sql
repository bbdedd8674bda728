-- Purpose: the Eurostat asylum figures are counts of persons (unit PER);
--          a file in another unit would be dropped from observations, so it
--          stops the release instead.
-- Severity: blocking
-- Returns: one row per file and unit other than PER.
SELECT file, unit, count(*) AS cells
FROM raw_eurostat_asylum
WHERE unit <> 'PER'
GROUP BY ALL
ORDER BY ALL;
