-- Purpose: the additive Schengen measures per Schengen State, host country of
--          the consulates and year, from which both Schengen marts sum:
--          applications D+I, issued E+J+M, not issued G+N and the parts of
--          the EC refusal rate.
-- Inputs:  observations (dataset ec_schengen_consulates).
-- Grain:   one row per state, host_country and year.
CREATE OR REPLACE TABLE schengen_state_host_year AS
WITH w AS (
    SELECT
        reporter AS state,
        partner AS host_country,
        year,
        count(DISTINCT location) AS consulates,
        CAST(sum(value) FILTER (WHERE indicator = 'atv_applied') AS BIGINT) AS atv_applied,
        CAST(sum(value) FILTER (WHERE indicator = 'uniform_applied') AS BIGINT) AS uniform_applied,
        CAST(sum(value) FILTER (WHERE indicator = 'atv_issued') AS BIGINT) AS atv_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'uniform_issued') AS BIGINT) AS uniform_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'ltv_issued') AS BIGINT) AS ltv_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'atv_not_issued') AS BIGINT) AS atv_not_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'uniform_not_issued') AS BIGINT) AS uniform_not_issued
    FROM observations
    WHERE dataset = 'ec_schengen_consulates'
    GROUP BY reporter, partner, year
)
SELECT
    state,
    host_country,
    year,
    atv_applied + uniform_applied AS applications,
    uniform_applied,
    atv_issued + uniform_issued + ltv_issued AS issued,
    uniform_issued,
    ltv_issued,
    atv_not_issued + uniform_not_issued AS not_issued,
    uniform_not_issued,
    consulates
FROM w;
