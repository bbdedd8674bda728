-- Purpose: where the asylum charts of a country's profile look: the EU
--          (EU27_2020, rank 0) and the three main countries of asylum of
--          its citizens, those with the most UNHCR asylum applications by
--          them over the ten latest years of UNHCR data (decisions break
--          ties, and rank an origin whose applications are not published).
--          Aggregates and special codes are never a main country.
-- Inputs:  asylum_decisions_compared, ref_countries.
-- Grain:   one row per origin and place (at most four per origin).
CREATE OR REPLACE TABLE profile_asylum_places AS
WITH span AS (
    SELECT max(year) AS last_year
    FROM asylum_decisions_compared
    WHERE unhcr_applications IS NOT NULL OR unhcr_decisions_total IS NOT NULL
),
ranked AS (
    SELECT
        a.origin,
        a.asylum_country AS place,
        c.name AS place_name,
        row_number() OVER (PARTITION BY a.origin
                           ORDER BY sum(a.unhcr_applications) DESC NULLS LAST,
                                    sum(a.unhcr_decisions_total) DESC NULLS LAST, a.asylum_country) AS rank,
        sum(a.unhcr_applications) AS applications,
        sum(a.unhcr_decisions_total) AS decisions
    FROM asylum_decisions_compared a
    JOIN ref_countries c ON c.code = a.asylum_country AND c.kind = 'country'
    CROSS JOIN span
    WHERE a.year > span.last_year - 10
    GROUP BY a.origin, a.asylum_country, c.name
    HAVING coalesce(sum(a.unhcr_applications), 0) > 0 OR coalesce(sum(a.unhcr_decisions_total), 0) > 0
)
SELECT origin, 'EU27_2020' AS place, 'EU' AS place_name, 0 AS rank,
       (SELECT last_year - 9 FROM span) AS first_year, (SELECT last_year FROM span) AS last_year
FROM (SELECT DISTINCT origin FROM asylum_decisions_compared WHERE asylum_country = 'EU27_2020')
UNION ALL
SELECT origin, place, place_name, rank,
       (SELECT last_year - 9 FROM span), (SELECT last_year FROM span)
FROM ranked
WHERE rank <= 3
ORDER BY origin, rank;
