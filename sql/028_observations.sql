-- Purpose: the public long-format table, one row per published number (see
--          docs/schema.md): the stored observations of the EC, UNHCR and MFA
--          sources and the Eurostat view, under one name.
-- Inputs:  observations_stored, observations_eurostat.
-- Grain:   dataset, indicator, reporter, partner, partner_role, location,
--          period, sex, age, applicant_type, decision.
CREATE OR REPLACE VIEW observations AS
SELECT * FROM observations_stored
UNION ALL
SELECT * FROM observations_eurostat;
