-- Purpose: UNHCR asylum decisions as observations: recognised (Convention
--          status), complementary protection ("other"), rejected, otherwise
--          closed, and total, summed over procedure type (authority) and
--          decision level (stage of procedure) within one input
--          (unhcr_input_cells); persons and cases are separate indicators
--          (suffix _cases). When several inputs publish a cell, all its
--          figures come from the newest release (cell_rank 1).
-- Inputs:  unhcr_input_cells.
-- Grain:   one row per country of asylum, origin, year and indicator.
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
WHERE dataset = 'unhcr_asylum_decisions' AND cell_rank = 1;
