-- Purpose: warn when UNHCR's API returned a year that the release calendar
--          (data/reference/unhcr_release_calendar.csv) had no release for
--          when the page was retrieved: the calendar is behind UNHCR. The
--          year is published as January-June (unhcr_input_releases takes it
--          as a mid-year release, never as whole) until the calendar says
--          which release it is; the fix is a line of the calendar.
-- Severity: warning
-- Show: all
-- After: unhcr_input_releases
-- Returns: one row per year missing from the calendar, with the pages that
--          hold it and when they were retrieved.
SELECT
    year(r.data_through) AS year,
    count(*) AS pages,
    strftime(min(f.retrieved_at), '%Y-%m-%d %H:%M UTC') AS first_retrieved,
    strftime(max(f.retrieved_at), '%Y-%m-%d %H:%M UTC') AS last_retrieved,
    'add UNHCR''s release of ' || year(r.data_through) || ' (kind mid-year or end-year, with the day it was published) to data/reference/unhcr_release_calendar.csv; until then its figures are published as '
        || year(r.data_through) || ' (Jan-Jun)' AS fix
FROM unhcr_input_releases r
JOIN raw_unhcr_files f USING (file)
WHERE r.known_from = 'not in the release calendar'
GROUP BY year(r.data_through)
ORDER BY year;
