-- Purpose: the EC consulate counts of the Schengen States as observations:
--          the count columns each workbook's layout has (a column the layout
--          lacks is NULL in the raw table and has no observation; a withheld
--          negative cell neither); rows of non-Schengen States (Bulgaria,
--          Cyprus, Romania in 2009-2010) are kept apart in the raw table.
--          Totals and rates are computed downstream, not ingested.
-- Inputs:  raw_ec_schengen_consulates, country_code, inputs.
-- Grain:   one row per Schengen State, host country, consulate, year and
--          indicator (the layout's count columns).
INSERT INTO observations_stored BY NAME
WITH coded AS (
    SELECT r.*,
           country_code('ec_schengen_consulates', 'schengen_state', r.schengen_state, r.file) AS reporter,
           country_code('ec_schengen_consulates', 'host_country', r.host_country, r.file) AS partner,
           left(i.sha256, 12) AS release
    FROM raw_ec_schengen_consulates r
    JOIN inputs i ON i.source = 'ec_schengen_consulates' AND i.path = r.file
    WHERE r.schengen
),
long AS (
    UNPIVOT coded
    ON atv_applied, atv_issued, atv_multiple_issued, atv_not_issued, uniform_applied,
       uniform_issued, uniform_mev_issued, ltv_issued, uniform_not_issued,
       btv_issued, abc_applied, abc_not_issued, d_issued, dc_issued
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
