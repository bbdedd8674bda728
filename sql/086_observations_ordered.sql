-- Purpose: observations with sort_key, whose order is observations' key
--          order (see eurostat_cells_ordered); the export reads it, and
--          what it writes is verified against observations.
-- Inputs:  observations_stored_ordered, observations_eurostat_ordered.
-- Grain:   as observations.
CREATE OR REPLACE VIEW observations_ordered AS
SELECT * FROM observations_stored_ordered
UNION ALL
SELECT * FROM observations_eurostat_ordered;
