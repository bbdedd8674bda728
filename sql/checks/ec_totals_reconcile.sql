-- Purpose: nothing was lost or doubled on the way from the EC workbooks to
--          observations. Two comparisons per count column: the raw rows of
--          each data sheet add up to the sheet's footer total row (the loader
--          checks each file; where a footer cell is an upstream issue, such as
--          a formula that leaves data rows out or a withheld negative cell,
--          raw_ec_schengen_totals holds the sum of the data rows as loaded and
--          upstream_issues the printed total), and the observations of each
--          year equal the raw rows of the Schengen States. A count column the
--          layout lacks is NULL on both sides.
-- Severity: blocking
-- Returns: one row per file, sheet (or year) and indicator that does not reconcile.
WITH totals AS (
    UNPIVOT raw_ec_schengen_totals
    ON atv_applied, atv_issued, atv_multiple_issued, atv_not_issued, uniform_applied,
       uniform_issued, uniform_mev_issued, ltv_issued, uniform_not_issued,
       btv_issued, abc_applied, abc_not_issued, d_issued, dc_issued
    INTO NAME indicator VALUE total
),
raw AS (
    UNPIVOT raw_ec_schengen_consulates
    ON atv_applied, atv_issued, atv_multiple_issued, atv_not_issued, uniform_applied,
       uniform_issued, uniform_mev_issued, ltv_issued, uniform_not_issued,
       btv_issued, abc_applied, abc_not_issued, d_issued, dc_issued
    INTO NAME indicator VALUE value
),
raw_sheets AS (
    SELECT file, sheet, indicator, sum(value) AS summed FROM raw GROUP BY ALL
),
raw_schengen AS (
    SELECT year, indicator, any_value(file) AS file, sum(value) AS summed FROM raw WHERE schengen GROUP BY ALL
),
obs AS (
    SELECT year, indicator, sum(value) AS observed
    FROM observations
    WHERE dataset = 'ec_schengen_consulates'
    GROUP BY year, indicator
)
SELECT t.file, t.sheet, t.year, t.indicator, t.total AS expected, r.summed AS found,
       'the sheet''s data rows against its footer total' AS comparison
FROM totals t
LEFT JOIN raw_sheets r USING (file, sheet, indicator)
WHERE r.summed IS DISTINCT FROM t.total
UNION ALL
SELECT coalesce(r.file, ''), '', coalesce(r.year, o.year), coalesce(r.indicator, o.indicator), r.summed, o.observed,
       'the observations against the Schengen States'' raw rows'
FROM raw_schengen r
FULL JOIN obs o ON o.year = r.year AND o.indicator = r.indicator
WHERE o.observed IS DISTINCT FROM r.summed
ORDER BY year, indicator;
