-- Purpose: the statements of the curated coverage file
--          (data/curated/period_coverage.csv) matched to the inputs they
--          are about: an input of the statement's source whose SHA-256 is
--          the stated one (for a UNHCR input, that of the file or of its
--          content as published, so that a gzipped copy is known as the
--          publication, as in the releases file). period_coverage reads
--          the statements from here, and the check coverage_statements_apply
--          lists those that match no input or a year it does not hold.
-- Inputs:  raw_period_coverage, inputs, raw_unhcr_files.
-- Grain:   one row per statement (file, line) and input it matches.
CREATE OR REPLACE TABLE coverage_statements AS
SELECT c.file, c.line, i.sha256, i.source, i.path, c.year, c.first_month, c.last_month, c.known_from
FROM raw_period_coverage c
JOIN inputs i ON i.source = c.source
LEFT JOIN raw_unhcr_files f ON c.source = 'unhcr' AND f.file = i.path
WHERE c.sha256 IN (i.sha256, f.content_sha256);
