-- Purpose: codes for the citizenships and reporting countries of the
--          Eurostat asylum files: Eurostat codes (EL, UK, aggregates) or, in
--          the legacy labelled exports, Eurostat's English labels.
-- Inputs:  raw_eurostat_series, ref_country_aliases (schemes eurostat_code,
--          eurostat_label).
-- Grain:   one row per field (citizen, geo), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT DISTINCT 'citizen' AS field, citizen AS spelling, coding, file FROM raw_eurostat_series
    UNION
    SELECT DISTINCT 'geo', geo, coding, file FROM raw_eurostat_series
),
aliases AS (
    SELECT DISTINCT scheme, name_key(alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme IN ('eurostat_code', 'eurostat_label')
)
SELECT 'eurostat_asylum', s.field, 'eurostat_' || s.coding, s.spelling, s.file, a.code
FROM spellings s
LEFT JOIN aliases a ON a.scheme = 'eurostat_' || s.coding AND a.k = name_key(s.spelling);
