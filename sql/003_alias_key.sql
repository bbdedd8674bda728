-- Purpose: the key on which a spelling of one naming scheme is matched with
--          the alias files. Names (ec_name, eurostat_label, unhcr_name, mfa)
--          go through name_key, so that accents and punctuation do not
--          matter. Codes (iso3, and every scheme named *_code) are compared
--          as written, only trimmed and upper-cased: punctuation is part of a
--          code (UNHCR's "-" means all countries and is not the empty code of
--          an unknown country).
-- Inputs:  name_key.
-- Grain:   a scalar macro, alias_key(scheme, text) -> text.
CREATE OR REPLACE MACRO alias_key(scheme, s) AS
    CASE WHEN scheme = 'iso3' OR suffix(scheme, '_code') THEN upper(trim(s)) ELSE name_key(s) END;
