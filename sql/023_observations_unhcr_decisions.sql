-- Purpose: UNHCR asylum decisions as observations: recognised (Convention
--          status), complementary protection ("other"), rejected, otherwise
--          closed, and total, summed over procedure type and decision level;
--          persons and cases are separate indicators (suffix _cases).
-- Inputs:  raw_unhcr_asylum_decisions, country_codes, inputs.
-- Grain:   one row per country of asylum, origin, year and indicator.
INSERT INTO observations_stored
WITH long AS (
    UNPIVOT raw_unhcr_asylum_decisions
    ON dec_recognized AS decisions_recognized, dec_other AS decisions_complementary,
       dec_rejected AS decisions_rejected, dec_closed AS decisions_closed, dec_total AS decisions_total
    INTO NAME indicator VALUE value
)
SELECT
    'unhcr_asylum_decisions' AS dataset,
    CASE r.cases_persons WHEN 'P' THEN r.indicator ELSE r.indicator || '_cases' END AS indicator,
    a.code AS reporter,
    o.code AS partner,
    'origin' AS partner_role,
    '' AS location,
    CAST(r.year AS VARCHAR) AS period,
    r.year,
    CAST(NULL AS INTEGER) AS month,
    'TOTAL' AS sex,
    'TOTAL' AS age,
    'TOTAL' AS applicant_type,
    'TOTAL' AS decision,
    sum(r.value) AS value,
    '' AS flags,
    left(i.sha256, 12) AS release
FROM long r
JOIN country_codes a ON a.source = 'unhcr' AND a.field = 'asylum_iso' AND a.spelling = r.asylum_iso AND a.file = r.file
JOIN country_codes o ON o.source = 'unhcr' AND o.field = 'origin_iso' AND o.spelling = r.origin_iso AND o.file = r.file
JOIN inputs i ON i.source = 'unhcr' AND i.path = r.file
GROUP BY ALL;
