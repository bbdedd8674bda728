-- Purpose: UNHCR figures per input file and cell, before choosing between
--          inputs: applications and decisions summed over authority
--          (procedure type), application type and stage of procedure
--          (decision level) within one file, persons (P) and cases (C) kept
--          apart. cell_rank orders the files that publish a cell (dataset,
--          unit, asylum country, origin, year) by recency: rank 1 is the
--          newest release, published in observations (022, 023); the others
--          are compared with it in unhcr_revisions. newest_file is the rank-1
--          file of the cell.
-- Inputs:  raw_unhcr_asylum_applications, raw_unhcr_asylum_decisions,
--          country_codes, unhcr_input_releases.
-- Grain:   one row per file, dataset, indicator, reporter, partner, year.
CREATE OR REPLACE TABLE unhcr_input_cells AS
WITH applications AS (
    SELECT 'unhcr_asylum_applications' AS dataset,
           CASE r.cases_persons WHEN 'P' THEN 'asylum_applicants' ELSE 'asylum_applicant_cases' END AS indicator,
           r.cases_persons, r.file, a.code AS reporter, o.code AS partner, r.year,
           sum(r.applied) AS value
    FROM raw_unhcr_asylum_applications r
    JOIN country_codes a ON a.source = 'unhcr' AND a.field = 'asylum_iso' AND a.spelling = r.asylum_iso AND a.file = r.file
    JOIN country_codes o ON o.source = 'unhcr' AND o.field = 'origin_iso' AND o.spelling = r.origin_iso AND o.file = r.file
    GROUP BY ALL
),
decisions_long AS (
    UNPIVOT raw_unhcr_asylum_decisions
    ON dec_recognized AS decisions_recognized, dec_other AS decisions_complementary,
       dec_rejected AS decisions_rejected, dec_closed AS decisions_closed, dec_total AS decisions_total
    INTO NAME indicator VALUE value
),
decisions AS (
    SELECT 'unhcr_asylum_decisions' AS dataset,
           CASE r.cases_persons WHEN 'P' THEN r.indicator ELSE r.indicator || '_cases' END AS indicator,
           r.cases_persons, r.file, a.code AS reporter, o.code AS partner, r.year,
           sum(r.value) AS value
    FROM decisions_long r
    JOIN country_codes a ON a.source = 'unhcr' AND a.field = 'asylum_iso' AND a.spelling = r.asylum_iso AND a.file = r.file
    JOIN country_codes o ON o.source = 'unhcr' AND o.field = 'origin_iso' AND o.spelling = r.origin_iso AND o.file = r.file
    GROUP BY ALL
),
cells AS (
    SELECT * FROM applications
    UNION ALL
    SELECT * FROM decisions
)
SELECT c.*, u.sha256, u.release, u.recency,
       dense_rank() OVER cell AS cell_rank,
       first_value(c.file) OVER cell AS newest_file
FROM cells c
JOIN unhcr_input_releases u USING (file)
WINDOW cell AS (PARTITION BY c.dataset, c.cases_persons, c.reporter, c.partner, c.year ORDER BY u.recency);
