-- Purpose: the footnote of the asylum charts of the profiles (108-110) that
--          says which countries of asylum are drawn beside the EU, one
--          home for its words: main_places_note(first_year, last_year) is
--          the years profile_asylum_places ranked the countries over.
-- Inputs:  none (a macro).
-- Grain:   one text per call.
CREATE OR REPLACE MACRO main_places_note(first_year, last_year) AS
    'Main countries of asylum: the three with the most UNHCR asylum applications by these citizens in '
        || first_year || '-' || last_year;
