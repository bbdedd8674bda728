-- Purpose: observations has one row per key (dataset, indicator, reporter,
--          partner, partner_role, location, period, sex, age, applicant_type,
--          decision): a duplicate would double-count in every mart.
-- Severity: blocking
-- Returns: one row per duplicated key.
SELECT dataset, indicator, reporter, partner, partner_role, location, period,
       sex, age, applicant_type, decision, count(*) AS copies
FROM observations
GROUP BY ALL
HAVING count(*) > 1
ORDER BY ALL
LIMIT 100;
