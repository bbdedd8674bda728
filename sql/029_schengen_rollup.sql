-- Purpose: the Schengen visa measures per year rolled up once, both by the
--          Schengen State whose consulates handled the applications and by
--          the host country of the consulates (where the application was
--          lodged, not the applicants' nationality); the two Schengen marts
--          select their key from it. The additive measures are first summed
--          per state, host country and year (consulates counted there), then
--          over either key: applications D+I, issued E+J+M, not issued G+N,
--          the EC refusal rate G+N over E+J+M+G+N (uniform visas, LTVs and
--          refusals), and the changes from the previous year. A measure whose
--          columns a year's layout lacks is NULL (2009-2010 have no ATV
--          applications and no refusals of uniform visas alone); a change is
--          published only when the previous year is loaded and both years
--          count the same thing (ref_ec_comparability) and the previous
--          year's count is at least 30 (a change on a handful of
--          applications says nothing), and otherwise comparability_note
--          says why it is empty.
-- Inputs:  observations (dataset ec_schengen_consulates), ref_countries,
--          ref_ec_comparability.
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
-- A count a year's layout has is 0 where a consulate row has no such
-- observation (a withheld negative cell); one it lacks stays NULL.
wy AS (
    SELECT * REPLACE (
        CASE WHEN bool_or(atv_applied IS NOT NULL) OVER y THEN coalesce(atv_applied, 0) END AS atv_applied,
        CASE WHEN bool_or(uniform_applied IS NOT NULL) OVER y THEN coalesce(uniform_applied, 0) END AS uniform_applied,
        CASE WHEN bool_or(atv_issued IS NOT NULL) OVER y THEN coalesce(atv_issued, 0) END AS atv_issued,
        CASE WHEN bool_or(uniform_issued IS NOT NULL) OVER y THEN coalesce(uniform_issued, 0) END AS uniform_issued,
        CASE WHEN bool_or(ltv_issued IS NOT NULL) OVER y THEN coalesce(ltv_issued, 0) END AS ltv_issued,
        CASE WHEN bool_or(atv_not_issued IS NOT NULL) OVER y THEN coalesce(atv_not_issued, 0) END AS atv_not_issued,
        CASE WHEN bool_or(uniform_not_issued IS NOT NULL) OVER y THEN coalesce(uniform_not_issued, 0) END AS uniform_not_issued)
    FROM w
    WINDOW y AS (PARTITION BY year)
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
    FROM wy
    GROUP BY GROUPING SETS ((state, year), (host_country, year))
),
defs AS (
    SELECT measure, first_year, coalesce(last_year, 9999) AS last_year,
           nullif(definition, 'not measured') AS definition, note
    FROM ref_ec_comparability
),
d AS (
    SELECT m.*,
           a.definition AS app_def, a.note AS app_note,
           u.definition AS ua_def, u.note AS ua_note,
           r.definition AS rate_def, r.note AS rate_note,
           lag(m.year) OVER win AS prev_year,
           lag(m.applications) OVER win AS prev_applications,
           lag(m.uniform_applied) OVER win AS prev_uniform_applied,
           lag(a.definition) OVER win AS prev_app_def,
           lag(u.definition) OVER win AS prev_ua_def
    FROM m
    LEFT JOIN defs a ON a.measure = 'applications' AND m.year BETWEEN a.first_year AND a.last_year
    LEFT JOIN defs u ON u.measure = 'uniform_applied' AND m.year BETWEEN u.first_year AND u.last_year
    LEFT JOIN defs r ON r.measure = 'not_issued_rate' AND m.year BETWEEN r.first_year AND r.last_year
    WINDOW win AS (PARTITION BY m.rolled_up_by, m.country ORDER BY m.year)
)
SELECT
    d.rolled_up_by, d.country, nullif(c.iso3, '') AS country_iso3, c.name AS country_name, d.year,
    CASE WHEN d.app_def IS NOT NULL THEN d.applications END AS applications,
    d.uniform_applied, d.issued, d.uniform_issued, d.ltv_issued,
    d.not_issued, d.uniform_not_issued,
    CASE WHEN d.rate_def IS NOT NULL
         THEN d.uniform_not_issued / nullif(d.uniform_issued + d.ltv_issued + d.uniform_not_issued, 0) END AS not_issued_rate,
    CASE WHEN d.prev_year = d.year - 1 AND d.app_def = d.prev_app_def AND d.prev_applications >= 30
         THEN d.applications / d.prev_applications - 1
    END AS applications_yoy_change,
    CASE WHEN d.prev_year = d.year - 1 AND d.ua_def = d.prev_ua_def AND d.prev_uniform_applied >= 30
         THEN d.uniform_applied / d.prev_uniform_applied - 1
    END AS uniform_applied_yoy_change,
    nullif(concat_ws('; ',
        CASE WHEN d.app_def IS NULL THEN 'applications not measured in ' || d.year || ': ' || coalesce(d.app_note, 'no definition in ref_ec_comparability') END,
        CASE WHEN d.rate_def IS NULL THEN 'refusal rate not measured in ' || d.year || ': ' || coalesce(d.rate_note, 'no definition in ref_ec_comparability') END,
        CASE WHEN d.prev_year IS DISTINCT FROM d.year - 1 AND d.year > (SELECT min(year) FROM m)
             THEN 'no change from ' || (d.year - 1) || ': no workbook for ' || (d.year - 1) || ' is loaded' END,
        CASE WHEN d.prev_year = d.year - 1 AND d.app_def IS NOT NULL AND d.prev_app_def IS DISTINCT FROM d.app_def
             THEN 'no change in applications from ' || (d.year - 1) || ': ' || coalesce(d.prev_app_def, 'not measured') || ' then, ' || d.app_def || ' now (' || d.app_note || ')' END,
        CASE WHEN d.prev_year = d.year - 1 AND d.ua_def IS NOT NULL AND d.prev_ua_def IS DISTINCT FROM d.ua_def
             THEN 'no change in uniform visa applications from ' || (d.year - 1) || ': ' || coalesce(d.prev_ua_def, 'not measured') || ' then, ' || d.ua_def || ' now (' || d.ua_note || ')' END,
        CASE WHEN d.prev_year = d.year - 1 AND d.app_def = d.prev_app_def AND d.prev_applications < 30
             THEN 'no change in applications from ' || (d.year - 1) || ': ' || d.prev_applications || ' then, fewer than 30' END,
        CASE WHEN d.prev_year = d.year - 1 AND d.ua_def = d.prev_ua_def AND d.prev_uniform_applied < 30
             THEN 'no change in uniform visa applications from ' || (d.year - 1) || ': ' || d.prev_uniform_applied || ' then, fewer than 30' END
    ), '') AS comparability_note,
    d.consulates
FROM d
JOIN ref_countries c ON c.code = d.country;
