-- Purpose: observations has one row per key (dataset, indicator, reporter,
--          partner, partner_role, location, period, sex, age, applicant_type,
--          decision): a duplicate would double-count in every mart. Counted
--          on the stored tables, not on the joined view: the stored rows on
--          their columns; Eurostat's cells on their series and period ids
--          (a key repeats when a series has a period twice, or when two
--          series of one key, key_repeated, both publish it), and only the
--          repeated ones are spelled out. A dataset found in both parts
--          (none is) is counted on the view.
-- Severity: blocking
-- Returns: one row per duplicated key.
WITH eurostat_datasets AS (
    SELECT DISTINCT dataset FROM eurostat_series
),
stored_datasets AS (
    SELECT DISTINCT dataset FROM observations_stored
),
stored AS (
    SELECT dataset, indicator, reporter, partner, partner_role, location, period,
           sex, age, applicant_type, decision, count(*) AS copies
    FROM observations_stored
    WHERE dataset NOT IN (SELECT dataset FROM eurostat_datasets)
    GROUP BY ALL
    HAVING count(*) > 1
),
published AS (
    SELECT c.series_id, c.period_id
    FROM raw_eurostat_cells c
    ANTI JOIN eurostat_superseded x ON x.series_id = c.series_id AND x.period_id = c.period_id
),
suspects AS (
    -- One integer per cell (period_id is a USMALLINT): a hash aggregate
    -- on one BIGINT is the cheapest over tens of millions of cells.
    SELECT CAST(cell // 65536 AS INTEGER) AS series_id, CAST(cell % 65536 AS USMALLINT) AS period_id
    FROM (SELECT CAST(series_id AS BIGINT) * 65536 + period_id AS cell FROM published)
    GROUP BY cell
    HAVING count(*) > 1
    UNION
    SELECT series_id, period_id FROM published
    SEMI JOIN (SELECT series_id FROM eurostat_series WHERE key_repeated) r USING (series_id)
),
eurostat AS (
    SELECT s.dataset, s.indicator, s.reporter, s.partner, 'citizenship' AS partner_role, '' AS location,
           p.period, s.sex, s.age, s.applicant_type, s.decision, count(*) AS copies
    FROM published c
    SEMI JOIN suspects USING (series_id, period_id)
    JOIN eurostat_series s USING (series_id)
    JOIN raw_eurostat_periods p USING (period_id)
    WHERE s.dataset NOT IN (SELECT dataset FROM stored_datasets)
    GROUP BY ALL
    HAVING count(*) > 1
),
mixed AS (
    SELECT dataset, indicator, reporter, partner, partner_role, location, period,
           sex, age, applicant_type, decision, count(*) AS copies
    FROM observations
    WHERE dataset IN (SELECT dataset FROM eurostat_datasets)
      AND dataset IN (SELECT dataset FROM stored_datasets)
    GROUP BY ALL
    HAVING count(*) > 1
)
SELECT * FROM stored
UNION ALL
SELECT * FROM eurostat
UNION ALL
SELECT * FROM mixed
ORDER BY ALL
LIMIT 100;
