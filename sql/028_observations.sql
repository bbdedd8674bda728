-- Purpose: the public long-format table, one row per published number (see
--          docs/schema.md): the stored observations of the EC, UNHCR and MFA
--          sources and the Eurostat view, under one name, each with whether
--          its period is complete and the period as people should read it
--          ("2023 (Jan-Jun)" for a year the input covers only in part).
-- Inputs:  observations_stored, observations_eurostat, period_coverage.
-- Grain:   dataset, indicator, reporter, partner, partner_role, location,
--          period, sex, age, applicant_type, decision.
-- Then:    previous_observations (the previous release's observations, to
--          compare against from here on; a view over its files, dropped
--          when the build ends).
CREATE OR REPLACE VIEW observations AS
WITH o AS (
    SELECT * FROM observations_stored
    UNION ALL
    SELECT * FROM observations_eurostat
)
SELECT
    o.*,
    pc.release IS NULL AS period_complete,
    period_label(o.period, pc.coverage) AS period_label
FROM o
LEFT JOIN period_coverage pc ON pc.release = o.release AND pc.period = o.period;
