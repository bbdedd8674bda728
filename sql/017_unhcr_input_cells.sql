-- Purpose: UNHCR figures per input file and cell, before choosing between
--          inputs: applications and decisions summed over authority
--          (procedure type), application type and stage of procedure
--          (decision level) within one file, persons (P) and cases (C) kept
--          apart. cell_rank orders the files that publish a cell (dataset,
--          unit, asylum country, origin, year) by recency: rank 1 is the
--          newest release, published in observations (observations_unhcr); the others
--          are compared with it in unhcr_revisions. newest_file is the rank-1
--          file of the cell.
-- Inputs:  raw_unhcr_asylum_applications, raw_unhcr_asylum_decisions,
--          country_code, unhcr_input_releases.
-- Grain:   one row per file, dataset, indicator, reporter, partner, year.
CREATE OR REPLACE TABLE unhcr_input_cells AS
WITH applications AS (
    SELECT 'unhcr_asylum_applications' AS dataset,
           CASE cases_persons WHEN 'P' THEN 'asylum_applicants' ELSE 'asylum_applicant_cases' END AS indicator,
           cases_persons, file, reporter, partner, year,
           sum(applied) AS value
    FROM (
        SELECT r.*,
               country_code('unhcr', 'asylum_iso', r.asylum_iso, r.file) AS reporter,
               country_code('unhcr', 'origin_iso', r.origin_iso, r.file) AS partner
        FROM raw_unhcr_asylum_applications r
    )
    GROUP BY ALL
),
decisions_long AS (
    UNPIVOT (
        SELECT r.file, r.year, r.cases_persons,
               country_code('unhcr', 'asylum_iso', r.asylum_iso, r.file) AS reporter,
               country_code('unhcr', 'origin_iso', r.origin_iso, r.file) AS partner,
               r.dec_recognized, r.dec_other, r.dec_rejected, r.dec_closed, r.dec_total
        FROM raw_unhcr_asylum_decisions r
    )
    ON dec_recognized AS decisions_recognized, dec_other AS decisions_complementary,
       dec_rejected AS decisions_rejected, dec_closed AS decisions_closed, dec_total AS decisions_total
    INTO NAME indicator VALUE value
),
decisions AS (
    SELECT 'unhcr_asylum_decisions' AS dataset,
           CASE cases_persons WHEN 'P' THEN indicator ELSE indicator || '_cases' END AS indicator,
           cases_persons, file, reporter, partner, year,
           sum(value) AS value
    FROM decisions_long
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
