-- Purpose: every statement of the curated coverage file
--          (data/curated/period_coverage.csv) applies to an input of the
--          run: it matches an input (coverage_statements) and that input
--          has observations in the stated year. A statement that
--          applies to nothing is ignored, so the period it was written for
--          would be published as a whole year: typically the file was
--          replaced by a newer download, whose digest differs.
-- Severity: warning
-- Show: all
-- Returns: one row per statement that applies to no input, with why.
WITH observed AS (
    -- Only the (release, year) pairs that statements name: with no
    -- statements (the shipped file) this does not scan observations.
    SELECT DISTINCT o.release, o.year
    FROM observations o
    SEMI JOIN coverage_statements m ON o.release = left(m.sha256, 12) AND o.year = m.year
),
applies AS (
    SELECT m.file, m.line, string_agg(DISTINCT m.path, ', ' ORDER BY m.path) AS paths,
           bool_or(o.release IS NOT NULL) AS observed
    FROM coverage_statements m
    LEFT JOIN observed o ON o.release = left(m.sha256, 12) AND o.year = m.year
    GROUP BY m.file, m.line
)
SELECT c.file, c.line, c.source, c.input_name, c.year,
       CASE WHEN a.file IS NULL
            THEN 'no ' || c.source || ' input of this run has the SHA-256 ' || c.sha256
                 || '; if ' || c.input_name || ' was replaced by a newer download, check what the new file covers and state it with its SHA-256'
            ELSE 'the input with this SHA-256 (' || a.paths || ') has no observation in ' || c.year
       END AS problem
FROM raw_period_coverage c
LEFT JOIN applies a ON a.file = c.file AND a.line = c.line
WHERE a.file IS NULL OR NOT a.observed
ORDER BY c.file, c.line;
