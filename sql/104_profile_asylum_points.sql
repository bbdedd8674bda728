-- Purpose: the figures the asylum charts of the profiles draw, one row per
--          origin, place (profile_asylum_places: the EU and the main
--          countries of asylum) and year, read from asylum_decisions_compared
--          (UNHCR all stages beside Eurostat first instance), with what a
--          reader must know of each: a UNHCR figure that covers part of
--          the year, an EU sum over fewer than all 27 member states,
--          Eurostat's flags in words, and the bases of the rates.
-- Inputs:  profile_asylum_places, asylum_decisions_compared,
--          eu27_2020_members, profile_eurostat_flag_words.
-- Grain:   one row per origin, place and year with any figure.
CREATE OR REPLACE TABLE profile_asylum_points AS
WITH members AS (
    -- How many member states the EU row of UNHCR sums, per measure.
    SELECT a.origin, a.year,
           count(a.unhcr_applications) AS applications_members,
           count(a.unhcr_decisions_total) AS decisions_members
    FROM asylum_decisions_compared a
    JOIN eu27_2020_members e ON e.code = a.asylum_country
    GROUP BY a.origin, a.year
)
SELECT
    p.origin,
    p.place,
    p.place_name,
    p.rank,
    a.year,
    a.unhcr_applications,
    a.unhcr_decisions_total,
    a.unhcr_recognized + a.unhcr_complementary + a.unhcr_rejected AS unhcr_merits,
    a.unhcr_total_protection_rate,
    coalesce(NOT a.unhcr_period_complete, false) AS unhcr_partial,
    CASE WHEN NOT a.unhcr_period_complete THEN regexp_extract(a.unhcr_period, '\((.*)\)', 1) END AS unhcr_months,
    m.applications_members,
    m.decisions_members,
    a.eurostat_decisions_total,
    a.eurostat_decisions_positive + a.eurostat_decisions_rejected AS eurostat_merits,
    a.eurostat_recognition_rate,
    fa.words AS eurostat_flag_words
FROM profile_asylum_places p
JOIN asylum_decisions_compared a ON a.origin = p.origin AND a.asylum_country = p.place
LEFT JOIN members m ON p.rank = 0 AND m.origin = a.origin AND m.year = a.year
LEFT JOIN profile_eurostat_flag_words fa ON fa.flags = a.eurostat_flags
ORDER BY p.origin, p.rank, a.year;
