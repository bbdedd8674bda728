-- Purpose: the countries that get a profile page in a release: every
--          country (ref_countries kind 'country', never an aggregate or a
--          special code such as STLS) that hosts Schengen consulates, whose
--          citizens apply for asylum (UNHCR origin or Eurostat
--          citizenship), or that publishes visa figures of its own (the
--          issuer of ru_mfa_visas_published), with which of these the data
--          hold for it.
-- Inputs:  schengen_host_country_year, asylum_decisions_compared,
--          asylum_sources_compared, asylum_citizenship_year,
--          ru_mfa_visas_published, ref_countries.
-- Grain:   one row per country (ISO 3166-1 alpha-2 code).
CREATE OR REPLACE TABLE profile_countries AS
WITH roles AS (
    SELECT host_country AS code, 'consulates' AS role FROM schengen_host_country_year
    UNION ALL
    SELECT origin, 'asylum' FROM asylum_decisions_compared
    UNION ALL
    SELECT origin, 'asylum' FROM asylum_sources_compared
    UNION ALL
    SELECT citizenship, 'asylum' FROM asylum_citizenship_year
    UNION ALL
    SELECT issuer, 'issuer' FROM ru_mfa_visas_published
)
SELECT
    c.code,
    c.name,
    nullif(c.iso3, '') AS iso3,
    bool_or(r.role = 'consulates') AS consulates,
    bool_or(r.role = 'asylum') AS asylum,
    bool_or(r.role = 'issuer') AS issuer
FROM roles r
JOIN ref_countries c ON c.code = r.code AND c.kind = 'country'
GROUP BY c.code, c.name, c.iso3
ORDER BY c.code;
