-- Purpose: the 27 member states of EU27_2020 (the Union since 1 February
--          2020), which Eurostat's EU27_2020 aggregate covers for every
--          year. One home for the list: asylum_decisions_compared sums
--          UNHCR's figures over it, and the headlines name the files those
--          figures come from.
-- Inputs:  none.
-- Grain:   one row per member state (ISO 3166-1 alpha-2, Greece as GR).
CREATE OR REPLACE TABLE eu27_2020_members AS
SELECT code FROM (VALUES ('AT'), ('BE'), ('BG'), ('HR'), ('CY'), ('CZ'), ('DK'), ('EE'), ('FI'), ('FR'), ('DE'), ('GR'), ('HU'),
                         ('IE'), ('IT'), ('LV'), ('LT'), ('LU'), ('MT'), ('NL'), ('PL'), ('PT'), ('RO'), ('SK'), ('SI'), ('ES'), ('SE')) m(code);
