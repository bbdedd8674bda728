-- Purpose: the periods that an input covers only in part, with the months it
--          covers and where that is known from. Today the knowledge comes from
--          the curated file (data/curated/period_coverage.csv, keyed by the
--          input's SHA-256); a period not listed is complete as published.
-- Inputs:  raw_period_coverage, inputs.
-- Grain:   one row per input (release) and year.
CREATE OR REPLACE TABLE period_coverage AS
SELECT
    left(i.sha256, 12) AS release,
    i.source,
    regexp_extract(i.path, '[^/]+$') AS file,
    c.year,
    CAST(c.year AS VARCHAR) AS period,
    c.first_month,
    c.last_month,
    strftime(make_date(2000, c.first_month, 1), '%b') || '-' || strftime(make_date(2000, c.last_month, 1), '%b') AS coverage,
    c.known_from
FROM raw_period_coverage c
JOIN inputs i ON i.sha256 = c.sha256 AND i.source = c.source;
