-- Purpose: UNHCR asylum applications as observations. UNHCR publishes them per
--          authority, application type and stage of procedure; they are summed
--          over those within one input (unhcr_input_cells; the raw table keeps
--          them), and persons and cases are kept apart as two indicators
--          (asylum_applicants counts persons, asylum_applicant_cases counts
--          cases): they are never added up. When several inputs publish a
--          cell, the newest release's figure is the one published
--          (cell_rank 1); unhcr_revisions lists the older figures that differ.
-- Inputs:  unhcr_input_cells.
-- Grain:   one row per country of asylum, origin, year and unit (P/C).
INSERT INTO observations_stored
SELECT
    dataset,
    indicator,
    reporter,
    partner,
    'origin' AS partner_role,
    '' AS location,
    CAST(year AS VARCHAR) AS period,
    year,
    CAST(NULL AS INTEGER) AS month,
    'TOTAL' AS sex,
    'TOTAL' AS age,
    'TOTAL' AS applicant_type,
    'TOTAL' AS decision,
    value,
    '' AS flags,
    left(sha256, 12) AS release
FROM unhcr_input_cells
WHERE dataset = 'unhcr_asylum_applications' AND cell_rank = 1;
