-- Purpose: codes for the citizenships and reporting countries of the
--          Eurostat asylum files: Eurostat codes (EL, UK, aggregates) or, in
--          the legacy labelled exports, Eurostat's English labels. A label
--          without an alias line maps through a name derived from the ISO
--          3166 reference when it means one country; codes map only through
--          alias lines.
-- Inputs:  raw_eurostat_series, ref_country_aliases (schemes eurostat_code,
--          eurostat_label), country_names.
-- Grain:   one row per field (citizen, geo), spelling, file.
INSERT INTO country_codes
WITH spellings AS (
    SELECT field, spelling, coding, file, sum(n) AS n FROM (
        SELECT 'citizen' AS field, citizen AS spelling, coding, file, count(*) AS n FROM raw_eurostat_series GROUP BY ALL
        UNION ALL
        SELECT 'geo', geo, coding, file, count(*) FROM raw_eurostat_series GROUP BY ALL
    ) GROUP BY ALL
),
aliases AS (
    SELECT DISTINCT scheme, alias_key(scheme, alias) AS k, code
    FROM ref_country_aliases
    WHERE scheme IN ('eurostat_code', 'eurostat_label')
)
SELECT 'eurostat_asylum', s.field, 'eurostat_' || s.coding, s.spelling, s.file, s.n,
       coalesce(a.code, d.code),
       CASE WHEN a.code IS NOT NULL THEN 'alias' WHEN d.code IS NOT NULL THEN 'iso_name' END,
       CASE WHEN a.code IS NULL AND d.code IS NULL THEN d.candidates END,
       NULL
FROM spellings s
LEFT JOIN aliases a ON a.scheme = 'eurostat_' || s.coding AND a.k = alias_key('eurostat_' || s.coding, s.spelling)
LEFT JOIN country_names d ON s.coding = 'label' AND d.key = name_key(s.spelling);
