-- Purpose: list large revisions against the previous release (a count that
--          moved by more than half, from at least 100) so that someone looks
--          at them; revisions are normal, so this warns and does not block.
-- Severity: warning
-- Returns: one row per large revision, largest first.
SELECT dataset, indicator, reporter, partner, location, period, previous_value, value,
       round(value / previous_value - 1, 4) AS relative_change
FROM observation_changes
WHERE change = 'revised' AND previous_value >= 100
  AND abs(value / previous_value - 1) > 0.5
ORDER BY abs(value / previous_value - 1) DESC
LIMIT 100;
