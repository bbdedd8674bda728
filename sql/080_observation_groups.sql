-- Purpose: the leading part of observations' key order (dataset, indicator,
--          reporter, partner, location) numbered in that order, so that the
--          export of observations sorts small integers instead of comparing
--          strings on tens of millions of rows (see eurostat_cells_ordered).
--          Eurostat's groups are read from its series, not from its cells.
-- Inputs:  observations_stored, eurostat_series.
-- Grain:   one row per dataset, indicator, reporter, partner and location.
CREATE OR REPLACE TABLE observation_groups AS
SELECT dataset, indicator, reporter, partner, location,
       row_number() OVER (ORDER BY dataset, indicator, reporter, partner, location) AS group_rank
FROM (
    SELECT DISTINCT dataset, indicator, reporter, partner, location FROM observations_stored
    UNION
    SELECT DISTINCT dataset, indicator, reporter, partner, '' AS location FROM eurostat_series
);
