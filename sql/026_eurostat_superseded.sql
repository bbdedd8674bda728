-- Purpose: Eurostat cells that another file also publishes, where the other
--          file ranks first: a file of the current coding (POS, FRST, ...)
--          before one of the legacy coding (TOTAL_POS, NASY_APP, ...), then
--          SDMX-CSV before API TSV before the legacy export, then the later
--          file name. Overlaps are found on the indicator, not on the published
--          decision or applicant code, so that TOTAL_POS and POS for the same
--          year count once. These cells are left out of observations so that
--          each number appears once; both stay in raw_eurostat_asylum and the
--          eurostat_overlaps check lists overlaps that disagree. Only series
--          whose key occurs more than once are looked at, so a single big file
--          costs nothing here.
-- Inputs:  eurostat_series, raw_eurostat_cells.
-- Grain:   one row per superseded cell (series_id, period_id).
CREATE OR REPLACE TABLE eurostat_superseded AS
SELECT c.series_id, c.period_id
FROM raw_eurostat_cells c
JOIN eurostat_series s USING (series_id)
WHERE s.key_repeated
QUALIFY row_number() OVER (
    PARTITION BY s.dataset, s.indicator, s.reporter, s.partner, s.sex, s.age, c.period_id
    ORDER BY s.generation_rank, s.format_rank, s.file DESC, c.series_id) > 1;
