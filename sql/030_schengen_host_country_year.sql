-- Purpose: Schengen visa applications, decisions and the EC refusal rate per
--          host country of the consulates (where the application was lodged,
--          not the applicants' nationality) and year.
-- Inputs:  schengen_state_host_year, ref_countries.
-- Grain:   one row per host_country and year.
CREATE OR REPLACE TABLE schengen_host_country_year AS
WITH m AS (
    SELECT host_country, year,
        CAST(sum(applications) AS BIGINT) AS applications,
        CAST(sum(uniform_applied) AS BIGINT) AS uniform_applied,
        CAST(sum(issued) AS BIGINT) AS issued,
        CAST(sum(uniform_issued) AS BIGINT) AS uniform_issued,
        CAST(sum(ltv_issued) AS BIGINT) AS ltv_issued,
        CAST(sum(not_issued) AS BIGINT) AS not_issued,
        CAST(sum(uniform_not_issued) AS BIGINT) AS uniform_not_issued,
        CAST(sum(consulates) AS BIGINT) AS consulates
    FROM schengen_state_host_year
    GROUP BY host_country, year
)
SELECT
    m.host_country, nullif(c.iso3, '') AS host_country_iso3, c.name AS host_country_name, m.year,
    m.applications, m.uniform_applied, m.issued, m.uniform_issued, m.ltv_issued,
    m.not_issued, m.uniform_not_issued,
    m.uniform_not_issued / nullif(m.uniform_issued + m.ltv_issued + m.uniform_not_issued, 0) AS not_issued_rate,
    CASE WHEN lag(m.year) OVER win = m.year - 1
         THEN m.applications / nullif(lag(m.applications) OVER win, 0) - 1
    END AS applications_yoy_change,
    m.consulates
FROM m
JOIN ref_countries c ON c.code = m.host_country
WINDOW win AS (PARTITION BY m.host_country ORDER BY m.year)
ORDER BY m.host_country, m.year;
