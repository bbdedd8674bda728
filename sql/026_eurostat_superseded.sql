-- Purpose: Eurostat cells that another file also publishes, where the other
--          file's format ranks first (a legacy export and a newer SDMX extract
--          of the same numbers): these are left out of observations so that
--          each number appears once; both stay in raw_eurostat_asylum and the
--          eurostat_overlaps check lists overlaps that disagree. Only series
--          whose coded key occurs more than once are looked at, so a single
--          big file costs nothing here.
-- Inputs:  eurostat_series, raw_eurostat_cells.
-- Grain:   one row per superseded cell (series_id, period_id).
CREATE OR REPLACE TABLE eurostat_superseded AS
SELECT c.series_id, c.period_id
FROM raw_eurostat_cells c
JOIN eurostat_series s USING (series_id)
WHERE s.key_repeated
QUALIFY row_number() OVER (
    PARTITION BY s.dataset, s.indicator, s.reporter, s.partner, s.sex, s.age, s.applicant_type, s.decision, c.period_id
    ORDER BY s.format_rank, s.file DESC, c.series_id) > 1;
