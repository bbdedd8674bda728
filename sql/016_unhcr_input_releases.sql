-- Purpose: which UNHCR release each input file of the unhcr source comes
--          from, and the files in order of recency (1 = newest), so that
--          when two inputs publish the same cell the newer release wins. The
--          release is what the releases file (data/curated/unhcr_releases.csv)
--          states for the SHA-256 of the file's content (inputs.content_sha256,
--          decompressed when the input is gzipped, so a compressed copy of a
--          publication is known as the publication itself); failing that, for
--          a page fetched from UNHCR's API, what UNHCR's release calendar
--          (data/reference/unhcr_release_calendar.csv) says was published
--          before the day the page was retrieved: the newest release's
--          data_through. The calendar's dates are days, so a release counts
--          from the day after it: a page retrieved on the day of a release
--          may predate it (a whole year may then be read as a half year for
--          a day, never the reverse). A page whose latest year is after the
--          calendar's newest release (the calendar lacks a release: known_from
--          'not in the release calendar', which the check
--          unhcr_release_calendar_current reports) is taken to run to 30 June
--          of that year: UNHCR adds a year to its data with a mid-year
--          release, and a year must not be read as whole unless a release
--          says so. Failing both, an export's preamble "Date extracted:"
--          stands for both the release and the date its figures run to;
--          failing that, the release is unknown and ranks below every known
--          one. Equal dates rank by file, the later (name order within a
--          directory, or page address) as the newer.
-- Inputs:  raw_unhcr_files, raw_unhcr_releases, raw_unhcr_release_calendar,
--          raw_unhcr_asylum_applications, raw_unhcr_asylum_decisions, inputs.
-- Grain:   one row per data file of the unhcr source (file).
CREATE OR REPLACE TABLE unhcr_input_releases AS
WITH fetched AS (
    -- API pages: when they were retrieved and the latest year they hold.
    SELECT f.file, CAST(f.retrieved_at AS DATE) AS retrieved_on, y.latest_year
    FROM raw_unhcr_files f
    LEFT JOIN (
        SELECT file, max(year) AS latest_year
        FROM (SELECT file, year FROM raw_unhcr_asylum_applications
              UNION ALL
              SELECT file, year FROM raw_unhcr_asylum_decisions)
        GROUP BY file
    ) y USING (file)
    WHERE f.retrieved_at IS NOT NULL
),
calendar_release AS (
    -- The newest release published before the day of retrieval (the
    -- loader refuses a page retrieved before the calendar's first).
    SELECT p.file, p.retrieved_on, p.latest_year, c.release, c.data_through, c.kind
    FROM fetched p
    JOIN raw_unhcr_release_calendar c ON c.published < p.retrieved_on
    QUALIFY row_number() OVER (PARTITION BY p.file ORDER BY c.data_through DESC, c.published DESC) = 1
),
by_calendar AS (
    SELECT
        file,
        CASE WHEN latest_year > year(data_through)
             THEN 'UNHCR API on ' || strftime(retrieved_on, '%Y-%m-%d') || ': ' || latest_year
                  || ' is after the release calendar''s newest release (' || release
                  || '), taken as a mid-year release of ' || latest_year
             ELSE release || ', served by the UNHCR API on ' || strftime(retrieved_on, '%Y-%m-%d')
        END AS release,
        CASE WHEN latest_year > year(data_through) THEN make_date(latest_year, 6, 30) ELSE data_through END AS data_through,
        coalesce(latest_year > year(data_through), false) OR kind = 'mid-year' AS mid_year,
        CASE WHEN latest_year <= year(data_through) OR latest_year IS NULL THEN 'release calendar'
             WHEN EXISTS (SELECT 1 FROM raw_unhcr_release_calendar d
                          WHERE d.data_year >= latest_year AND d.published = retrieved_on)
             THEN 'release calendar, released on the day of retrieval'
             ELSE 'not in the release calendar'
        END AS known_from
    FROM calendar_release
)
SELECT
    f.file,
    f.input_path,
    i.sha256,
    f.layout,
    coalesce(r.release, b.release,
             'Refugee Data Finder extract of ' || strftime(f.date_extracted, '%Y-%m-%d'),
             'unknown') AS release,
    coalesce(r.data_through, b.data_through, CAST(f.date_extracted AS DATE)) AS data_through,
    coalesce(r.mid_year, b.mid_year) AS mid_year,
    CASE WHEN r.sha256 IS NOT NULL THEN 'releases file'
         WHEN b.file IS NOT NULL THEN b.known_from
         WHEN f.date_extracted IS NOT NULL THEN 'export preamble'
         ELSE 'unknown' END AS known_from,
    row_number() OVER (
        ORDER BY coalesce(r.data_through, b.data_through, CAST(f.date_extracted AS DATE)) DESC NULLS LAST, f.file DESC) AS recency
FROM raw_unhcr_files f
JOIN inputs i ON i.source = 'unhcr' AND i.path = f.input_path
LEFT JOIN raw_unhcr_releases r ON r.sha256 = i.content_sha256
LEFT JOIN by_calendar b ON b.file = f.file;
