-- Purpose: the one rule for matching published names to reference spellings:
--          case-insensitive, surrounding and repeated whitespace ignored.
-- Inputs:  none.
-- Grain:   a scalar macro, name_key(text) -> text.
CREATE OR REPLACE MACRO name_key(s) AS upper(trim(regexp_replace(s, '\s+', ' ', 'g')));
