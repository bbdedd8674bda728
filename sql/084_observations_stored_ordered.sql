-- Purpose: the stored observations (EC, UNHCR, MFA) as observations shows
--          them, with sort_key (see eurostat_cells_ordered), stored in key
--          order for the export.
-- Inputs:  observations_stored, observation_groups, observation_periods,
--          observation_breakdowns, period_coverage.
-- Grain:   as observations_stored.
CREATE OR REPLACE TABLE observations_stored_ordered AS
WITH sizes AS (
    SELECT (SELECT count(*) FROM observation_periods) AS periods,
           (SELECT count(*) FROM observation_breakdowns) AS breakdowns
)
SELECT s.*,
       pc.release IS NULL AS period_complete,
       period_label(s.period, pc.coverage) AS period_label,
       (g.group_rank * z.periods + p.period_rank) * z.breakdowns + b.breakdown_rank AS sort_key
FROM observations_stored s
CROSS JOIN sizes z
JOIN observation_groups g USING (dataset, indicator, reporter, partner, location)
JOIN observation_periods p USING (year, period)
JOIN observation_breakdowns b USING (sex, age, applicant_type, decision)
LEFT JOIN period_coverage pc ON pc.release = s.release AND pc.period = s.period
ORDER BY sort_key;
