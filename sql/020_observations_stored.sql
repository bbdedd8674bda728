-- Purpose: the observations of the sources stored row by row (EC consulates,
--          UNHCR, Russian MFA), in the columns of observations (see
--          docs/schema.md); created empty here, filled by 021-024 with
--          INSERT ... BY NAME. A column that a source does not break down by
--          has its default here, once: no location, no month, every sex,
--          age, applicant type and decision (TOTAL), no flags. Eurostat's
--          cells are stored normalised and joined in by observations_eurostat.
-- Inputs:  none.
-- Grain:   dataset, indicator, reporter, partner, partner_role, location,
--          period, sex, age, applicant_type, decision.
CREATE OR REPLACE TABLE observations_stored (
    dataset VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL,
    reporter VARCHAR NOT NULL,
    partner VARCHAR NOT NULL,
    partner_role VARCHAR NOT NULL,
    location VARCHAR NOT NULL DEFAULT '',
    period VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER DEFAULT NULL,
    sex VARCHAR NOT NULL DEFAULT 'TOTAL',
    age VARCHAR NOT NULL DEFAULT 'TOTAL',
    applicant_type VARCHAR NOT NULL DEFAULT 'TOTAL',
    decision VARCHAR NOT NULL DEFAULT 'TOTAL',
    value DOUBLE,
    flags VARCHAR NOT NULL DEFAULT '',
    release VARCHAR NOT NULL
);
