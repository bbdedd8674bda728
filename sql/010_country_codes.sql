-- Purpose: one table mapping every country spelling met in the inputs to its
--          code in ref_countries; filled per source by 01x files.
-- Inputs:  none.
-- Grain:   one row per source, field, spelling and file; code NULL when the
--          spelling is not in the crosswalk (unmapped_countries then fails).
--          scheme is the naming scheme the spelling was read in (the alias
--          lines that apply); n_rows counts the input rows with the
--          spelling; matched says how it was mapped (alias: a line of an
--          alias file; iso_code: an ISO 3166 alpha-2 code of ref_countries;
--          iso_name: derived from the ISO 3166 names in country_names);
--          candidates lists the codes an unmapped spelling could mean (an
--          ambiguous derived name's, or the country whose code a name field
--          holds); consulates lists the consulate towns of the rows (EC
--          workbooks only), the evidence for deciding an unmapped spelling.
CREATE OR REPLACE TABLE country_codes (
    source VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    scheme VARCHAR NOT NULL,
    spelling VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    n_rows BIGINT NOT NULL,
    code VARCHAR,
    matched VARCHAR,
    candidates VARCHAR,
    consulates VARCHAR[]
);
