-- Purpose: the Eurostat observations as observations shows them, with
--          sort_key, read from eurostat_cells_ordered: a scan of that
--          table joined to its series, periods and flags
--          (eurostat_observations), which a single thread returns in the
--          table's (key) order.
-- Inputs:  eurostat_observations over eurostat_cells_ordered.
-- Grain:   as observations_eurostat.
CREATE OR REPLACE VIEW observations_eurostat_ordered AS
SELECT * EXCLUDE (series_id, period_id, coverage, sort_key),
       coverage IS NULL AS period_complete,
       period_label(period, coverage) AS period_label,
       sort_key
FROM eurostat_observations('eurostat_cells_ordered');
