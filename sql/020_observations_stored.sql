-- Purpose: the observations of the sources stored row by row (EC consulates,
--          UNHCR, Russian MFA), in the columns of observations (see
--          docs/schema.md); created empty here, filled by 021-024. Eurostat's
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
    location VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER,
    sex VARCHAR NOT NULL,
    age VARCHAR NOT NULL,
    applicant_type VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    value DOUBLE,
    flags VARCHAR NOT NULL,
    release VARCHAR NOT NULL
);
