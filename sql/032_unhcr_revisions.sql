-- Purpose: UNHCR figures revised by a newer release: for every cell that
--          more than one input publishes, each older input's figure that
--          differs from the newest release's (the one in observations), with
--          both files and releases. Agreeing overlaps are not listed; an
--          older figure the newest input does not publish for the cell is
--          listed with an empty newer_value. An older figure that covers
--          only part of its year (a mid-year release) is not a revision but
--          a half year completed: older_period says so ("2023 (Jan-Jun)",
--          against "2023 (Jan-Dec)" for a whole year)
--          and kind is "partial period completed" instead of "revision".
-- Inputs:  unhcr_input_cells, unhcr_input_releases, period_coverage.
-- Grain:   one row per dataset, indicator, asylum_country, origin, year and
--          older_file.
CREATE OR REPLACE TABLE unhcr_revisions AS
SELECT
    o.dataset,
    o.indicator,
    o.reporter AS asylum_country,
    o.partner AS origin,
    o.year,
    CASE o.cases_persons WHEN 'P' THEN 'persons' ELSE 'cases' END AS unit,
    o.value AS older_value,
    o.release AS older_release,
    parse_filename(o.file) AS older_file,
    -- Always text with the months covered, so that CSV readers type the
    -- column as text in every row.
    o.year || ' (' || coalesce(pc.coverage, 'Jan-Dec') || ')' AS older_period,
    CASE WHEN pc.release IS NULL THEN 'revision' ELSE 'partial period completed' END AS kind,
    n.value AS newer_value,
    u.release AS newer_release,
    parse_filename(o.newest_file) AS newer_file,
    n.value - o.value AS difference
FROM unhcr_input_cells o
JOIN unhcr_input_releases u ON u.file = o.newest_file
LEFT JOIN unhcr_input_cells n
       ON n.file = o.newest_file AND n.dataset = o.dataset AND n.indicator = o.indicator
      AND n.reporter = o.reporter AND n.partner = o.partner AND n.year = o.year
LEFT JOIN period_coverage pc ON pc.release = left(o.sha256, 12) AND pc.year = o.year
WHERE o.cell_rank > 1
  AND o.value IS DISTINCT FROM n.value;
