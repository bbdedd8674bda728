-- Purpose: the statements of the curated coverage file
--          (data/curated/period_coverage.csv) matched to the inputs they
--          are about: an input of the statement's source whose SHA-256 is
--          the stated one, that of the file or of its content as
--          published (inputs.content_sha256: a gzipped copy is known as the
--          publication, as in the UNHCR releases file). period_coverage reads
--          the statements from here, and the check coverage_statements_apply
--          lists those that match no input or a year it does not hold.
-- Inputs:  raw_period_coverage, inputs.
-- Grain:   one row per statement (file, line) and input it matches.
CREATE OR REPLACE TABLE coverage_statements AS
SELECT c.file, c.line, i.sha256, i.source, i.path, c.year, c.first_month, c.last_month, c.known_from
FROM raw_period_coverage c
JOIN inputs i ON i.source = c.source AND c.sha256 IN (i.sha256, i.content_sha256);
