-- Purpose: a release never silently covers less than the previous one: per
--          dataset and year, it has at least as many observations. A source
--          file that went missing or lost rows stops the release here.
-- Severity: blocking
-- Returns: one row per dataset and year that shrank.
WITH now AS (
    SELECT dataset, year, count(*) AS rows_now FROM observations GROUP BY ALL
),
prev AS (
    SELECT dataset, year, count(*) AS rows_before FROM previous_observations GROUP BY ALL
)
SELECT p.dataset, p.year, p.rows_before, coalesce(n.rows_now, 0) AS rows_now
FROM prev p
LEFT JOIN now n ON n.dataset = p.dataset AND n.year = p.year
WHERE coalesce(n.rows_now, 0) < p.rows_before
ORDER BY p.dataset, p.year;
