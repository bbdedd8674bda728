-- Purpose: the Schengen visa measures per year rolled up once, both by the
--          Schengen State whose consulates handled the applications and by
--          the host country of the consulates (where the application was
--          lodged, not the applicants' nationality); the two Schengen marts
--          select their key from it. The additive measures are first summed
--          per state, host country and year (consulates counted there), then
--          over either key: applications D+I, issued E+J+M, not issued G+N,
--          the EC refusal rate G+N over E+J+M+G+N (uniform visas, LTVs and
--          refusals), and the change in applications from the previous year.
-- Inputs:  observations (dataset ec_schengen_consulates), ref_countries.
-- Grain:   one row per rolled-up key (rolled_up_by state or host_country),
--          country and year.
CREATE OR REPLACE TABLE schengen_rollup AS
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
),
m AS (
    SELECT
        CASE WHEN grouping(state) = 0 THEN 'state' ELSE 'host_country' END AS rolled_up_by,
        coalesce(state, host_country) AS country,
        year,
        CAST(sum(atv_applied + uniform_applied) AS BIGINT) AS applications,
        CAST(sum(uniform_applied) AS BIGINT) AS uniform_applied,
        CAST(sum(atv_issued + uniform_issued + ltv_issued) AS BIGINT) AS issued,
        CAST(sum(uniform_issued) AS BIGINT) AS uniform_issued,
        CAST(sum(ltv_issued) AS BIGINT) AS ltv_issued,
        CAST(sum(atv_not_issued + uniform_not_issued) AS BIGINT) AS not_issued,
        CAST(sum(uniform_not_issued) AS BIGINT) AS uniform_not_issued,
        CAST(sum(consulates) AS BIGINT) AS consulates
    FROM w
    GROUP BY GROUPING SETS ((state, year), (host_country, year))
)
SELECT
    m.rolled_up_by, m.country, nullif(c.iso3, '') AS country_iso3, c.name AS country_name, m.year,
    m.applications, m.uniform_applied, m.issued, m.uniform_issued, m.ltv_issued,
    m.not_issued, m.uniform_not_issued,
    m.uniform_not_issued / nullif(m.uniform_issued + m.ltv_issued + m.uniform_not_issued, 0) AS not_issued_rate,
    CASE WHEN lag(m.year) OVER win = m.year - 1
         THEN m.applications / nullif(lag(m.applications) OVER win, 0) - 1
    END AS applications_yoy_change,
    m.consulates
FROM m
JOIN ref_countries c ON c.code = m.country
WINDOW win AS (PARTITION BY m.rolled_up_by, m.country ORDER BY m.year);
