-- Purpose: the one way a source's spelling of a country becomes its code:
--          the code country_codes (010-014) holds for the source, field,
--          spelling and input file. Every model that reads a country from
--          an input goes through it, so that the mapping has one home.
-- Inputs:  country_codes.
-- Grain:   a scalar macro, country_code(source, field, spelling, file) ->
--          code (NULL when no line of country_codes matches).
CREATE OR REPLACE MACRO country_code(of_source, of_field, of_spelling, of_file) AS (
    SELECT c.code
    FROM country_codes c
    WHERE c.source = of_source AND c.field = of_field AND c.spelling = of_spelling AND c.file = of_file
);
