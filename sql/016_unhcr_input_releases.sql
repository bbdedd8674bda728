-- Purpose: which UNHCR release each input file of the unhcr source comes
--          from, and the files in order of recency (1 = newest), so that
--          when two inputs publish the same cell the newer release wins. The
--          release is what the releases file (data/curated/unhcr_releases.csv)
--          states for the SHA-256 of the file's content (inputs.content_sha256,
--          decompressed when the input is gzipped, so a compressed copy of a
--          publication is known as the publication itself); failing that, an export's
--          preamble "Date extracted:" stands for both the release and the
--          date its figures run to; failing that, the release is unknown and
--          ranks below every known one. Equal dates rank by file path, the
--          later path (name order within a directory) as the newer.
-- Inputs:  raw_unhcr_files, raw_unhcr_releases, inputs.
-- Grain:   one row per data file of the unhcr source (file).
CREATE OR REPLACE TABLE unhcr_input_releases AS
SELECT
    f.file,
    i.sha256,
    f.layout,
    coalesce(r.release,
             'Refugee Data Finder extract of ' || strftime(f.date_extracted, '%Y-%m-%d'),
             'unknown') AS release,
    coalesce(r.data_through, CAST(f.date_extracted AS DATE)) AS data_through,
    r.mid_year,
    CASE WHEN r.sha256 IS NOT NULL THEN 'releases file'
         WHEN f.date_extracted IS NOT NULL THEN 'export preamble'
         ELSE 'unknown' END AS known_from,
    row_number() OVER (
        ORDER BY coalesce(r.data_through, CAST(f.date_extracted AS DATE)) DESC NULLS LAST, f.file DESC) AS recency
FROM raw_unhcr_files f
JOIN inputs i ON i.source = 'unhcr' AND i.path = f.file
LEFT JOIN raw_unhcr_releases r ON r.sha256 = i.content_sha256;
