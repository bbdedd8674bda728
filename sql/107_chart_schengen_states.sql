-- Purpose: the series of the profile chart schengen_states: uniform visa
--          applications at the consulates located in a country, by the
--          Schengen State whose consulates received them, for the (at most
--          five) States that received the most in the country's latest EC
--          year (ties broken by the State's code), every EC year loaded. A
--          State without a consulate reporting there in a year has no point
--          (not 0). A row without a year says which States are drawn and
--          what share of that year's applications they received. Countries where a single State
--          receives applications have no such chart (schengen_visas shows
--          them).
-- Inputs:  observations (ec_schengen_consulates, uniform_applied),
--          ref_countries, ref_ec_comparability, profile_ec_missing_years.
-- Grain:   one row per host country, State drawn and year (chart_* columns,
--          see 105_chart_schengen_visas.sql).
CREATE OR REPLACE TABLE chart_schengen_states AS
WITH pairs AS (
    SELECT partner AS host_country, reporter AS state, year, sum(value) AS uniform_applied
    FROM observations
    WHERE dataset = 'ec_schengen_consulates' AND indicator = 'uniform_applied'
    GROUP BY partner, reporter, year
),
latest AS (
    SELECT host_country, max(year) AS year
    FROM pairs
    WHERE uniform_applied > 0
    GROUP BY host_country
),
ranked AS (
    SELECT p.host_country, p.state, l.year, p.uniform_applied,
           row_number() OVER (PARTITION BY p.host_country ORDER BY p.uniform_applied DESC, p.state) AS rank,
           sum(p.uniform_applied) OVER (PARTITION BY p.host_country) AS total,
           count(*) OVER (PARTITION BY p.host_country) AS states
    FROM pairs p
    JOIN latest l ON l.host_country = p.host_country AND l.year = p.year
    WHERE p.uniform_applied > 0
),
drawn AS (
    SELECT * FROM ranked WHERE rank <= 5 AND states >= 2
)
SELECT
    d.host_country AS country,
    CAST(d.rank AS INTEGER) AS series_order,
    c.name AS series,
    p.year,
    p.uniform_applied AS value,
    false AS partial,
    CASE WHEN r.note IS NULL THEN CAST([] AS VARCHAR[]) ELSE [r.note] END AS notes
FROM drawn d
JOIN pairs p ON p.host_country = d.host_country AND p.state = d.state
JOIN ref_countries c ON c.code = d.state
LEFT JOIN ref_ec_comparability r
       ON r.measure = 'uniform_applied' AND p.year BETWEEN r.first_year AND r.last_year
UNION ALL
SELECT d.host_country, CAST(d.rank AS INTEGER), c.name, m.year, NULL, false, ['no EC workbook is loaded for this year']
FROM drawn d
JOIN profile_ec_missing_years m ON m.host_country = d.host_country
JOIN ref_countries c ON c.code = d.state
UNION ALL
SELECT host_country, NULL, NULL, NULL, NULL, false,
       [CASE WHEN count(*) = any_value(states)
             THEN 'The ' || count(*) || ' Schengen States that received uniform visa applications there in ' || any_value(year)
             ELSE 'The ' || count(*) || ' Schengen States that received the most uniform visa applications there in '
                  || any_value(year) || ' (of ' || any_value(states) || ' that received any): together '
                  || CAST(round(100 * sum(uniform_applied) / any_value(total)) AS INTEGER) || '% of them'
        END]
FROM drawn
GROUP BY host_country
ORDER BY country, series_order, year;
