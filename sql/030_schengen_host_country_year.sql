-- Purpose: Schengen visa applications, decisions and the EC refusal rate per
--          host country of the consulates (where the application was lodged,
--          not the applicants' nationality) and year.
-- Inputs:  observations (dataset ec_schengen_consulates), ref_countries.
-- Grain:   one row per host_country and year.
CREATE OR REPLACE TABLE schengen_host_country_year AS
WITH w AS (
    SELECT
        partner AS host_country,
        year,
        count(DISTINCT reporter || '|' || location) AS consulates,
        CAST(sum(value) FILTER (WHERE indicator = 'atv_applied') AS BIGINT) AS atv_applied,
        CAST(sum(value) FILTER (WHERE indicator = 'uniform_applied') AS BIGINT) AS uniform_applied,
        CAST(sum(value) FILTER (WHERE indicator = 'atv_issued') AS BIGINT) AS atv_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'uniform_issued') AS BIGINT) AS uniform_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'ltv_issued') AS BIGINT) AS ltv_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'atv_not_issued') AS BIGINT) AS atv_not_issued,
        CAST(sum(value) FILTER (WHERE indicator = 'uniform_not_issued') AS BIGINT) AS uniform_not_issued
    FROM observations
    WHERE dataset = 'ec_schengen_consulates'
    GROUP BY partner, year
),
m AS (
    SELECT
        host_country,
        year,
        atv_applied + uniform_applied AS applications,
        uniform_applied,
        atv_issued + uniform_issued + ltv_issued AS issued,
        uniform_issued,
        ltv_issued,
        atv_not_issued + uniform_not_issued AS not_issued,
        uniform_not_issued,
        uniform_not_issued / nullif(uniform_issued + ltv_issued + uniform_not_issued, 0) AS not_issued_rate,
        consulates
    FROM w
)
SELECT
    m.host_country,
    c.name AS host_country_name,
    m.year,
    m.applications,
    m.uniform_applied,
    m.issued,
    m.uniform_issued,
    m.ltv_issued,
    m.not_issued,
    m.uniform_not_issued,
    m.not_issued_rate,
    CASE WHEN lag(m.year) OVER win = m.year - 1
         THEN m.applications / nullif(lag(m.applications) OVER win, 0) - 1
    END AS applications_yoy_change,
    m.consulates
FROM m
JOIN ref_countries c ON c.code = m.host_country
WINDOW win AS (PARTITION BY m.host_country ORDER BY m.year)
ORDER BY m.host_country, m.year;
