-- Purpose: warn when one publisher's figure for a country of asylum, origin
--          and year is far below the other's (less than half, the larger being
--          at least 100): the usual sign of an input that covers only part of
--          the year without saying so (a mid-year release), or of a country
--          that reported late. Figures already marked as covering part of the
--          year are left out: they are known. UNHCR counts persons over all
--          procedure stages and Eurostat rounds to 5, so moderate differences
--          are normal; this only points at the large ones.
-- Severity: warning
-- After: asylum_decisions_compared
-- Returns: one row per pair of figures far apart, largest ratio first.
WITH pairs AS (
    SELECT 'applications' AS measure, asylum_country, origin, year,
           unhcr_asylum_applicants AS unhcr, eurostat_asylum_applicants AS eurostat
    FROM asylum_sources_compared
    WHERE unhcr_period_complete
    UNION ALL
    SELECT 'decisions', asylum_country, origin, year, unhcr_decisions_total, eurostat_decisions_total
    FROM asylum_decisions_compared
    WHERE unhcr_period_complete
)
SELECT measure, asylum_country, origin, year, unhcr, eurostat,
       round(greatest(unhcr, eurostat) / nullif(least(unhcr, eurostat), 0), 2) AS ratio
FROM pairs
WHERE unhcr IS NOT NULL AND eurostat IS NOT NULL
  AND greatest(unhcr, eurostat) >= 100
  AND least(unhcr, eurostat) < 0.5 * greatest(unhcr, eurostat)
ORDER BY greatest(unhcr, eurostat) / nullif(least(unhcr, eurostat), 0) DESC NULLS FIRST
LIMIT 100;
