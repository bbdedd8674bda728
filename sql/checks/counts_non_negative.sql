-- Purpose: counts are never negative.
-- Severity: blocking
-- Returns: one row per negative observation (first 100).
SELECT dataset, indicator, reporter, partner, location, period, value
FROM observations
WHERE value < 0
ORDER BY ALL
LIMIT 100;
