-- Purpose: the Eurostat cells published in observations (superseded ones
--          left out), narrow, stored in observations' key order: sort_key
--          is one BIGINT whose order is the key order (dataset, indicator,
--          reporter, partner, location, year, period, sex, age,
--          applicant_type, decision), the numbers of the cell's group,
--          period and breakdown as the digits of one mixed-radix number
--          (each from 1). Sorting these few numbers once is cheap; the
--          export then reads the cells in this order and joins their
--          strings on, so that no wide row is ever sorted. coverage is the
--          part of the period the cell's input covers (period_coverage),
--          NULL for a whole period.
-- Inputs:  raw_eurostat_cells, eurostat_series, raw_eurostat_periods,
--          eurostat_superseded, observation_groups, observation_periods,
--          observation_breakdowns, period_coverage.
-- Grain:   one row per published Eurostat cell (series_id, period_id).
CREATE OR REPLACE TABLE eurostat_cells_ordered AS
WITH sizes AS (
    SELECT (SELECT count(*) FROM observation_periods) AS periods,
           (SELECT count(*) FROM observation_breakdowns) AS breakdowns
),
series_rank AS (
    SELECT s.series_id, s.release, g.group_rank, b.breakdown_rank
    FROM eurostat_series s
    JOIN observation_groups g
      ON g.dataset = s.dataset AND g.indicator = s.indicator AND g.reporter = s.reporter
     AND g.partner = s.partner AND g.location = ''
    JOIN observation_breakdowns b USING (sex, age, applicant_type, decision)
),
period_rank AS (
    SELECT p.period_id, p.period, o.period_rank
    FROM raw_eurostat_periods p
    JOIN observation_periods o USING (year, period)
)
SELECT c.series_id, c.period_id, c.value, c.flag_id, pc.coverage,
       (r.group_rank * z.periods + p.period_rank) * z.breakdowns + r.breakdown_rank AS sort_key
FROM raw_eurostat_cells c
JOIN series_rank r USING (series_id)
JOIN period_rank p USING (period_id)
CROSS JOIN sizes z
LEFT JOIN period_coverage pc ON pc.release = r.release AND pc.period = p.period
ANTI JOIN eurostat_superseded x ON x.series_id = c.series_id AND x.period_id = c.period_id
ORDER BY sort_key;
