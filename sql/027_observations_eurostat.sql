-- Purpose: Eurostat asylum applicants and first-instance decisions as
--          observations, values and flags exactly as published (':' is NULL,
--          never 0). A view: the cells stay stored once, narrow, in
--          raw_eurostat_cells, and are joined to their series, period and
--          flags when read (eurostat_observations).
-- Inputs:  eurostat_observations over raw_eurostat_cells, eurostat_superseded.
-- Grain:   one row per dataset, indicator, reporting country, citizenship,
--          period, sex, age, applicant type and decision.
CREATE OR REPLACE VIEW observations_eurostat AS
SELECT o.* EXCLUDE (series_id, period_id)
FROM eurostat_observations('raw_eurostat_cells') o
-- An anti join, not NOT EXISTS: DuckDB plans a correlated NOT EXISTS as a
-- delim join that first groups every (series_id, period_id) of the cells.
ANTI JOIN eurostat_superseded x ON x.series_id = o.series_id AND x.period_id = o.period_id;
