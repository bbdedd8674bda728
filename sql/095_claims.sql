-- Purpose: the registry of published claims, to be evaluated against the
--          data by the pipeline (actual, status, explanation and
--          implied_value are filled in per claim by running its metric_sql
--          and implied_sql).
-- Inputs:  raw_claims.
-- Grain:   one row per claim.
CREATE OR REPLACE TABLE claims AS
SELECT
    claim_id,
    statement,
    published_in,
    published_url,
    metric,
    expected,
    unit,
    rounding,
    CAST(NULL AS DOUBLE) AS actual,
    CAST(NULL AS VARCHAR) AS status,
    caveat,
    CAST(NULL AS VARCHAR) AS explanation,
    CAST(NULL AS DOUBLE) AS implied_value,
    implies,
    requires,
    metric_sql,
    implied_sql
FROM raw_claims
ORDER BY claim_id;
