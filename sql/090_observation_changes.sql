-- Purpose: what changed against the previous release: observations that are
--          new, removed, or revised (value or flags changed), so that a
--          revision is published instead of discovered.
-- Inputs:  observations, previous_observations (the previous release's
--          observations; empty for a first release).
-- Grain:   one row per observation key that differs between the releases.
CREATE OR REPLACE TABLE observation_changes AS
-- Each dataset and year is compared whole first, by its row count and the
-- sum of its rows' hashes (key, value and flags): only the partitions that
-- differ are joined row by row, so that a nightly run over tens of
-- millions of unchanged observations does not join them all.
WITH digests AS (
    SELECT side, dataset, year, count(*) AS n,
           sum(CAST(hash(indicator, reporter, partner, partner_role, location, period, sex, age,
                         applicant_type, decision, value, flags) AS HUGEINT)) AS h
    FROM (
        SELECT 'now' AS side, * FROM observations
        UNION ALL BY NAME
        SELECT 'before' AS side, * FROM previous_observations
    )
    GROUP BY side, dataset, year
),
differ AS (
    SELECT dataset, year
    FROM digests
    GROUP BY dataset, year
    HAVING count(*) = 1 OR count(DISTINCT n) > 1 OR count(DISTINCT h) > 1
),
now AS (
    SELECT * FROM observations SEMI JOIN differ USING (dataset, year)
),
before AS (
    SELECT * FROM previous_observations SEMI JOIN differ USING (dataset, year)
),
joined AS (
    SELECT
        coalesce(n.dataset, p.dataset) AS dataset,
        coalesce(n.indicator, p.indicator) AS indicator,
        coalesce(n.reporter, p.reporter) AS reporter,
        coalesce(n.partner, p.partner) AS partner,
        coalesce(n.partner_role, p.partner_role) AS partner_role,
        coalesce(n.location, p.location) AS location,
        coalesce(n.period, p.period) AS period,
        coalesce(n.year, p.year) AS year,
        coalesce(n.sex, p.sex) AS sex,
        coalesce(n.age, p.age) AS age,
        coalesce(n.applicant_type, p.applicant_type) AS applicant_type,
        coalesce(n.decision, p.decision) AS decision,
        CASE
            WHEN p.dataset IS NULL THEN 'new'
            WHEN n.dataset IS NULL THEN 'removed'
            WHEN n.value IS DISTINCT FROM p.value OR n.flags IS DISTINCT FROM p.flags THEN 'revised'
        END AS change,
        p.value AS previous_value,
        n.value AS value,
        p.flags AS previous_flags,
        n.flags AS flags,
        p.release AS previous_release,
        n.release AS release
    FROM now n
    FULL OUTER JOIN before p
      ON  n.dataset = p.dataset AND n.indicator = p.indicator AND n.reporter = p.reporter
      AND n.partner = p.partner AND n.partner_role = p.partner_role AND n.location = p.location
      AND n.period = p.period AND n.sex = p.sex AND n.age = p.age
      AND n.applicant_type = p.applicant_type AND n.decision = p.decision
)
SELECT *
FROM joined
WHERE change IS NOT NULL
  -- a first release has no previous one: nothing is "new" against nothing
  AND (SELECT count(*) FROM previous_observations) > 0
ORDER BY dataset, indicator, reporter, partner, location, period, sex, age, applicant_type, decision;
