-- Purpose: the EC consulate counts (columns D..N of "Data for consulates") as
--          observations; totals and rates are computed downstream, not ingested.
-- Inputs:  raw_ec_schengen_consulates, country_codes, inputs.
-- Grain:   one row per Schengen State, host country, consulate, year and
--          indicator (9 indicators per consulate row).
INSERT INTO observations_stored
WITH coded AS (
    SELECT r.*, s.code AS reporter, h.code AS partner, left(i.sha256, 12) AS release
    FROM raw_ec_schengen_consulates r
    JOIN country_codes s
      ON s.source = 'ec_schengen_consulates' AND s.field = 'schengen_state'
     AND s.spelling = r.schengen_state AND s.file = r.file
    JOIN country_codes h
      ON h.source = 'ec_schengen_consulates' AND h.field = 'host_country'
     AND h.spelling = r.host_country AND h.file = r.file
    JOIN inputs i ON i.source = 'ec_schengen_consulates' AND i.path = r.file
),
long AS (
    UNPIVOT coded
    ON atv_applied, atv_issued, atv_multiple_issued, atv_not_issued, uniform_applied,
       uniform_issued, uniform_mev_issued, ltv_issued, uniform_not_issued
    INTO NAME indicator VALUE value
)
SELECT
    'ec_schengen_consulates' AS dataset,
    indicator,
    reporter,
    partner,
    'consulate_location' AS partner_role,
    consulate AS location,
    CAST(year AS VARCHAR) AS period,
    year,
    CAST(NULL AS INTEGER) AS month,
    'TOTAL' AS sex,
    'TOTAL' AS age,
    'TOTAL' AS applicant_type,
    'TOTAL' AS decision,
    CAST(value AS DOUBLE) AS value,
    '' AS flags,
    release
FROM long;
