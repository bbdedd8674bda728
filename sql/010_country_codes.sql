-- Purpose: one table mapping every country spelling met in the inputs to its
--          code in ref_countries; filled per source by 01x files.
-- Inputs:  none.
-- Grain:   one row per source, field, spelling and file; code NULL when the
--          spelling is not in the crosswalk (unmapped_countries then fails).
CREATE OR REPLACE TABLE country_codes (
    source VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    scheme VARCHAR NOT NULL,
    spelling VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    code VARCHAR
);
