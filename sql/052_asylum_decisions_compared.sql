-- Purpose: asylum decisions for one origin in one country of asylum (or the
--          EU) per year, from both publishers side by side: UNHCR's decisions
--          (persons, all procedure stages and authorities: recognised as
--          refugees, complementary protection, rejected, otherwise closed)
--          with its rates, beside Eurostat's first-instance decisions with its
--          recognition rate. The EU row sums UNHCR's figures over the 27
--          member states of EU27_2020 (the Union since 1 February 2020, for
--          every year, as Eurostat's EU27_2020 does), and is the same
--          aggregate Eurostat publishes as EU27_2020. A year that any UNHCR
--          input covers only in part is marked (unhcr_period,
--          unhcr_period_complete) and has no change on the year before.
-- Inputs:  observations (unhcr_asylum_decisions, unhcr_asylum_applications,
--          eurostat_migr_asydcfsta), ref_countries.
-- Grain:   one row per country of asylum (or EU27_2020), origin and year
--          present in either source.
CREATE OR REPLACE TABLE asylum_decisions_compared AS
WITH eu27(code) AS (
    VALUES ('AT'), ('BE'), ('BG'), ('HR'), ('CY'), ('CZ'), ('DK'), ('EE'), ('FI'), ('FR'), ('DE'), ('GR'), ('HU'),
           ('IE'), ('IT'), ('LV'), ('LT'), ('LU'), ('MT'), ('NL'), ('PL'), ('PT'), ('RO'), ('SK'), ('SI'), ('ES'), ('SE')
),
un_obs AS (
    SELECT reporter, partner, year, indicator, value, period_complete, period_label
    FROM observations
    WHERE (dataset = 'unhcr_asylum_decisions'
           AND indicator IN ('decisions_total', 'decisions_recognized', 'decisions_complementary',
                             'decisions_rejected', 'decisions_closed'))
       OR (dataset = 'unhcr_asylum_applications' AND indicator = 'asylum_applicants')
),
un_all AS (
    SELECT reporter, partner, year, indicator, value, period_complete, period_label FROM un_obs
    UNION ALL
    SELECT 'EU27_2020', u.partner, u.year, u.indicator, sum(u.value), bool_and(u.period_complete),
           -- Whole when every member's period is whole; when none is, the
           -- periods the members cover; otherwise "partly" and those periods.
           CASE WHEN bool_and(u.period_complete) THEN CAST(u.year AS VARCHAR)
                ELSE CAST(u.year AS VARCHAR) || ' ('
                     || CASE WHEN bool_or(u.period_complete) THEN 'partly ' ELSE '' END
                     || string_agg(DISTINCT regexp_extract(u.period_label, '\((.*)\)', 1), ', '
                                   ORDER BY regexp_extract(u.period_label, '\((.*)\)', 1))
                            FILTER (WHERE NOT u.period_complete)
                     || ')'
           END
    FROM un_obs u JOIN eu27 e ON e.code = u.reporter
    GROUP BY u.partner, u.year, u.indicator
),
un AS (
    SELECT reporter, partner, year,
        CAST(max(value) FILTER (WHERE indicator = 'asylum_applicants') AS BIGINT) AS unhcr_applications,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_total') AS BIGINT) AS unhcr_decisions_total,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_recognized') AS BIGINT) AS unhcr_recognized,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_complementary') AS BIGINT) AS unhcr_complementary,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_rejected') AS BIGINT) AS unhcr_rejected,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_closed') AS BIGINT) AS unhcr_otherwise_closed,
        bool_and(period_complete) AS unhcr_period_complete,
        CASE WHEN bool_and(period_complete) THEN CAST(year AS VARCHAR) ELSE max(period_label) FILTER (WHERE NOT period_complete) END AS unhcr_period
    FROM un_all
    GROUP BY reporter, partner, year
),
es AS (
    SELECT reporter, partner, year,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_total') AS BIGINT) AS eurostat_decisions_total,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_positive') AS BIGINT) AS eurostat_decisions_positive,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_rejected') AS BIGINT) AS eurostat_decisions_rejected,
        coalesce(string_agg(DISTINCT nullif(flags, ''), ''), '') AS eurostat_flags
    FROM observations
    WHERE dataset = 'eurostat_migr_asydcfsta' AND sex = 'T' AND age = 'TOTAL' AND month IS NULL
      AND indicator IN ('decisions_total', 'decisions_positive', 'decisions_rejected')
    GROUP BY reporter, partner, year
),
j AS (
    SELECT coalesce(un.reporter, es.reporter) AS asylum_country,
           coalesce(un.partner, es.partner) AS origin,
           coalesce(un.year, es.year) AS year,
           un.* EXCLUDE (reporter, partner, year),
           es.* EXCLUDE (reporter, partner, year)
    FROM un FULL OUTER JOIN es
      ON un.reporter = es.reporter AND un.partner = es.partner AND un.year = es.year
)
SELECT
    j.asylum_country,
    nullif(a.iso3, '') AS asylum_country_iso3,
    a.name AS asylum_country_name,
    j.origin,
    nullif(o.iso3, '') AS origin_iso3,
    o.name AS origin_name,
    j.year,
    j.unhcr_period,
    j.unhcr_period_complete,
    j.unhcr_applications,
    j.unhcr_decisions_total,
    j.unhcr_recognized,
    j.unhcr_complementary,
    j.unhcr_rejected,
    j.unhcr_otherwise_closed,
    j.unhcr_recognized / nullif(j.unhcr_recognized + j.unhcr_complementary + j.unhcr_rejected, 0) AS unhcr_recognition_rate,
    (j.unhcr_recognized + j.unhcr_complementary) / nullif(j.unhcr_recognized + j.unhcr_complementary + j.unhcr_rejected, 0) AS unhcr_total_protection_rate,
    CASE WHEN j.unhcr_period_complete AND lag(j.year) OVER win = j.year - 1 AND lag(j.unhcr_period_complete) OVER win
         THEN j.unhcr_decisions_total / nullif(lag(j.unhcr_decisions_total) OVER win, 0) - 1
    END AS unhcr_decisions_yoy_change,
    j.eurostat_decisions_total,
    j.eurostat_decisions_positive,
    j.eurostat_decisions_rejected,
    j.eurostat_decisions_positive / nullif(j.eurostat_decisions_positive + j.eurostat_decisions_rejected, 0) AS eurostat_recognition_rate,
    coalesce(j.eurostat_flags, '') AS eurostat_flags
FROM j
JOIN ref_countries a ON a.code = j.asylum_country AND (a.kind = 'country' OR a.code IN ('EU27_2020', 'EU28'))
JOIN ref_countries o ON o.code = j.origin
WINDOW win AS (PARTITION BY j.asylum_country, j.origin ORDER BY j.year)
ORDER BY j.asylum_country, j.origin, j.year;
