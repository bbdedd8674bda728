-- Purpose: the one rule for matching published names to reference spellings,
--          used by every alias, every derived ISO name and every published
--          spelling: accents stripped (TÜRKIYE = TURKIYE, CÔTE = COTE), case
--          ignored, apostrophes and periods dropped (D'IVOIRE = DIVOIRE,
--          S.A.R. = SAR), & read as AND, any other run of punctuation or
--          whitespace (hyphens, commas, parentheses, no-break spaces) one
--          space, and a leading THE dropped.
-- Inputs:  none.
-- Grain:   a scalar macro, name_key(text) -> text.
CREATE OR REPLACE MACRO name_key(s) AS
    regexp_replace(
        trim(regexp_replace(
            regexp_replace(
                regexp_replace(upper(strip_accents(s)), '[''`´‘’.]', '', 'g'),
                '&', ' AND ', 'g'),
            '[^\p{L}\p{N}]+', ' ', 'g')),
        '^THE ', '');
