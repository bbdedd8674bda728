-- Purpose: the registry of published claims, to be evaluated against the
--          data by the pipeline (actual, status and explanation are filled
--          in per claim by running its metric_sql).
-- Inputs:  raw_claims.
-- Grain:   one row per claim.
CREATE OR REPLACE TABLE claims AS
SELECT
    claim_id,
    statement,
    published_in,
    metric,
    expected,
    rounding,
    CAST(NULL AS DOUBLE) AS actual,
    CAST(NULL AS VARCHAR) AS status,
    CAST(NULL AS VARCHAR) AS explanation,
    requires,
    metric_sql
FROM raw_claims
ORDER BY claim_id;
