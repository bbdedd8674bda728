-- Purpose: the public long-format table, one row per published number (see
--          docs/schema.md); created empty here, filled per dataset by 02x files.
-- Inputs:  none.
-- Grain:   dataset, indicator, reporter, partner, partner_role, location,
--          period, sex, age, applicant_type, decision.
CREATE OR REPLACE TABLE observations (
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
