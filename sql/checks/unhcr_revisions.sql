-- Purpose: list UNHCR figures that a newer release revised (the newer one is
--          published in observations; unhcr_revisions has them all), largest
--          differences first, so that a revision is seen, not silently taken.
--          A partial year that a full-year release completes is expected and
--          not listed here (it stays in unhcr_revisions).
-- Severity: warning
-- After: unhcr_revisions
-- Returns: one row per revised figure (first 100).
SELECT dataset, indicator, asylum_country, origin, year, unit,
       older_value, older_release, newer_value, newer_release, difference
FROM unhcr_revisions
WHERE kind = 'revision'
ORDER BY abs(coalesce(difference, older_value)) DESC, dataset, indicator, asylum_country, origin, year, older_file
LIMIT 100;
