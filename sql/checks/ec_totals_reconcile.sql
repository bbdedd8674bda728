-- Purpose: the EC observations of each year add up to the workbook's own
--          "Total worldwide" row in every count column (the loader checks each
--          file; this checks nothing was lost or doubled on the way to
--          observations). Where a footer cell is an upstream issue (its
--          formula leaves data rows out, or a maintainer accepted it),
--          raw_ec_schengen_totals holds the data rows' sum and upstream_issues
--          the printed total.
-- Severity: blocking
-- Returns: one row per year and indicator that does not reconcile.
WITH totals AS (
    UNPIVOT raw_ec_schengen_totals
    ON atv_applied, atv_issued, atv_multiple_issued, atv_not_issued, uniform_applied,
       uniform_issued, uniform_mev_issued, ltv_issued, uniform_not_issued
    INTO NAME indicator VALUE total
),
obs AS (
    SELECT year, indicator, sum(value) AS observed
    FROM observations
    WHERE dataset = 'ec_schengen_consulates'
    GROUP BY year, indicator
)
SELECT t.file, t.year, t.indicator, t.total, o.observed
FROM totals t
LEFT JOIN obs o ON o.year = t.year AND o.indicator = t.indicator
WHERE o.observed IS DISTINCT FROM t.total
ORDER BY t.year, t.indicator;
