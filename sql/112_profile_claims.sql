-- Purpose: which published claims a country's profile shows: those whose
--          SQL (metric_sql, implied_sql) names the country's code as a
--          literal ('RU'), and, for a country whose own visa figures are
--          loaded (the issuer of ru_mfa_visas_published), those that read
--          those figures (the dataset ru_mfa_published or its table).
-- Inputs:  profile_countries, claims.
-- Grain:   one row per country and claim.
CREATE OR REPLACE TABLE profile_claims AS
SELECT p.code AS country, c.claim_id
FROM profile_countries p
JOIN claims c
  ON strpos(coalesce(c.metric_sql, '') || ' ' || coalesce(c.implied_sql, ''), '''' || p.code || '''') > 0
  OR (p.issuer AND regexp_matches(coalesce(c.metric_sql, '') || ' ' || coalesce(c.implied_sql, ''), 'ru_mfa_(published|visas_published)'))
ORDER BY country, claim_id;
