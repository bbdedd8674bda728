-- Purpose: UNHCR asylum applications and decisions as observations. UNHCR
--          publishes them per authority (procedure type), application type
--          and stage of procedure (decision level); they are summed over
--          those within one input (unhcr_input_cells; the raw tables keep
--          them). Persons and cases are kept apart as separate indicators
--          (asylum_applicants counts persons, asylum_applicant_cases cases;
--          decisions in cases carry the suffix _cases): they are never added
--          up. Decisions are recognised (Convention status), complementary
--          protection ("other"), rejected, otherwise closed, and total. When
--          several inputs publish a cell, all its figures come from the
--          newest release (cell_rank 1); unhcr_revisions lists the older
--          figures that differ.
-- Inputs:  unhcr_input_cells.
-- Grain:   one row per dataset, country of asylum, origin, year and
--          indicator.
INSERT INTO observations_stored BY NAME
SELECT
    dataset,
    indicator,
    reporter,
    partner,
    'origin' AS partner_role,
    CAST(year AS VARCHAR) AS period,
    year,
    value,
    left(sha256, 12) AS release
FROM unhcr_input_cells
WHERE cell_rank = 1;
