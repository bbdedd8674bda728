-- Purpose: the period of an observation as people should read it: the
--          period itself, or with the part of it its input covers
--          ("2023 (Jan-Jun)"), coverage coming from period_coverage. One
--          home for the label that observations and the export's ordered
--          models show.
-- Inputs:  none.
-- Grain:   a scalar macro, period_label(period, coverage) -> text.
CREATE OR REPLACE MACRO period_label(of_period, of_coverage) AS
    CASE WHEN of_coverage IS NULL THEN of_period ELSE of_period || ' (' || of_coverage || ')' END;
