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
--          The EU's change is computed over the member states with
--          decisions in both years (a sum over 20 members is never set
--          beside one over 22), and no change is published on a base of
--          fewer than 30 decisions in the earlier year (a change of +900%
--          on 5 decisions says nothing): unhcr_note says what the EU row
--          sums and why a change is empty.
-- Inputs:  observations (unhcr_asylum_decisions, unhcr_asylum_applications,
--          eurostat_migr_asydcfsta), ref_countries, eu27_2020_members.
-- Grain:   one row per country of asylum (or EU27_2020), origin and year
--          present in either source.
CREATE OR REPLACE TABLE asylum_decisions_compared AS
WITH eu27 AS (
    SELECT code FROM eu27_2020_members
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
        -- Always text with the months covered, "2023 (Jan-Dec)" for a
        -- whole year, so that a CSV reader types it as text in every row.
        CASE WHEN bool_and(period_complete) THEN year || ' (Jan-Dec)' ELSE max(period_label) FILTER (WHERE NOT period_complete) END AS unhcr_period
    FROM un_all
    GROUP BY reporter, partner, year
),
-- The member states in the EU row's UNHCR figures, and its decisions
-- summed over the members with decisions in both a year and the year
-- before: the EU's change compares the same countries.
eu_members AS (
    SELECT u.reporter, u.partner, u.year,
           CAST(sum(u.value) FILTER (WHERE u.indicator = 'decisions_total') AS BIGINT) AS decisions,
           bool_and(u.period_complete) AS complete
    FROM un_obs u JOIN eu27 e ON e.code = u.reporter
    GROUP BY u.reporter, u.partner, u.year
),
eu_change AS (
    SELECT c.partner, c.year,
           (SELECT count(*) FROM eu_members m WHERE m.partner = c.partner AND m.year = c.year) AS members,
           count(p.reporter) FILTER (WHERE c.decisions IS NOT NULL AND p.decisions IS NOT NULL) AS members_both,
           sum(c.decisions) FILTER (WHERE p.decisions IS NOT NULL) AS now_common,
           sum(p.decisions) FILTER (WHERE c.decisions IS NOT NULL) AS before_common,
           bool_and(c.complete AND coalesce(p.complete, true)) AS complete
    FROM eu_members c
    LEFT JOIN eu_members p ON p.reporter = c.reporter AND p.partner = c.partner AND p.year = c.year - 1
    GROUP BY c.partner, c.year
),
es AS (
    SELECT reporter, partner, year,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_total') AS BIGINT) AS eurostat_decisions_total,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_positive') AS BIGINT) AS eurostat_decisions_positive,
        CAST(max(value) FILTER (WHERE indicator = 'decisions_rejected') AS BIGINT) AS eurostat_decisions_rejected,
        coalesce(string_agg(DISTINCT nullif(flags, ''), ''), '') AS eurostat_flags
    FROM observations
    WHERE dataset = 'eurostat_migr_asydcfsta' AND sex = 'T' AND age = 'TOTAL'
      -- Years only: a quarter (2025-Q2) has no month either.
      AND period = CAST(year AS VARCHAR)
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
),
-- The two sides of the change on the year before: a country's decisions
-- and the year before's; the EU's over the members in both years.
k AS (
    SELECT j.*,
           e.members, e.members_both,
           CASE WHEN j.asylum_country = 'EU27_2020' THEN e.now_common ELSE j.unhcr_decisions_total END AS change_now,
           CASE WHEN j.asylum_country = 'EU27_2020' THEN e.before_common
                WHEN lag(j.year) OVER win = j.year - 1 THEN lag(j.unhcr_decisions_total) OVER win END AS change_before,
           CASE WHEN j.asylum_country = 'EU27_2020' THEN e.complete
                ELSE j.unhcr_period_complete AND coalesce(lag(j.unhcr_period_complete) OVER win, true) END AS change_complete
    FROM j
    LEFT JOIN eu_change e ON j.asylum_country = 'EU27_2020' AND e.partner = j.origin AND e.year = j.year
    WINDOW win AS (PARTITION BY j.asylum_country, j.origin ORDER BY j.year)
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
    CASE WHEN j.change_complete AND j.change_before >= 30 AND j.change_now IS NOT NULL
         THEN j.change_now / j.change_before - 1
    END AS unhcr_decisions_yoy_change,
    nullif(concat_ws('; ',
        CASE WHEN j.asylum_country = 'EU27_2020' AND j.members IS NOT NULL
             THEN 'UNHCR figures: the sum of the ' || j.members || ' member states that have UNHCR figures for ' || j.year END,
        CASE WHEN j.unhcr_decisions_total IS NULL OR j.change_before IS NULL THEN NULL
             WHEN NOT j.change_complete
             THEN 'no change from ' || (j.year - 1) || ': a year covered only in part'
             WHEN j.change_before < 30
             THEN 'no change from ' || (j.year - 1) || ': ' || j.change_before || ' decisions then'
                  || CASE WHEN j.asylum_country = 'EU27_2020' THEN ' in the ' || j.members_both || ' member states with decisions in both years' ELSE '' END
                  || ', fewer than 30'
             WHEN j.asylum_country = 'EU27_2020'
             THEN 'change from ' || (j.year - 1) || ' over the ' || j.members_both || ' member states with decisions in both years ('
                  || j.change_before || ' then, ' || j.change_now || ' now)'
        END
    ), '') AS unhcr_note,
    j.eurostat_decisions_total,
    j.eurostat_decisions_positive,
    j.eurostat_decisions_rejected,
    j.eurostat_decisions_positive / nullif(j.eurostat_decisions_positive + j.eurostat_decisions_rejected, 0) AS eurostat_recognition_rate,
    coalesce(j.eurostat_flags, '') AS eurostat_flags
FROM k j
JOIN ref_countries a ON a.code = j.asylum_country AND (a.kind = 'country' OR a.code IN ('EU27_2020', 'EU28'))
JOIN ref_countries o ON o.code = j.origin
ORDER BY j.asylum_country, j.origin, j.year;
