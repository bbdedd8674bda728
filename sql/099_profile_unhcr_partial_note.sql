-- Purpose: the words under a profile chart for a UNHCR figure that covers
--          part of its year, one home for the asylum charts (108-110):
--          unhcr_partial_note(place, months) says which place's figure
--          covers which months, and that it is not comparable with whole
--          years. months is profile_asylum_points.unhcr_months: "Jan-Jun",
--          or "partly Jan-Jun" when only some member states' figures do.
-- Inputs:  none (a macro).
-- Grain:   one text per call.
CREATE OR REPLACE MACRO unhcr_partial_note(place, months) AS
    CASE WHEN starts_with(months, 'partly ')
         THEN place || ', UNHCR: some member states'' figures cover ' || substr(months, 8) || ' only; not comparable with whole years'
         ELSE place || ', UNHCR: ' || months || ' only (a mid-year release); not comparable with whole years' END;
