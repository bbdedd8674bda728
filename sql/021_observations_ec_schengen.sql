-- Purpose: the EC consulate counts (columns D..N of "Data for consulates") as
--          observations; totals and rates are computed downstream, not ingested.
-- Inputs:  raw_ec_schengen_consulates, country_code, inputs.
-- Grain:   one row per Schengen State, host country, consulate, year and
--          indicator (9 indicators per consulate row).
INSERT INTO observations_stored BY NAME
WITH coded AS (
    SELECT r.*,
           country_code('ec_schengen_consulates', 'schengen_state', r.schengen_state, r.file) AS reporter,
           country_code('ec_schengen_consulates', 'host_country', r.host_country, r.file) AS partner,
           left(i.sha256, 12) AS release
    FROM raw_ec_schengen_consulates r
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
    CAST(value AS DOUBLE) AS value,
    release
FROM long;
