-- Purpose: discrepancies found in the upstream files, published so that users
--          see what a file says, what its data say, why they differ and what
--          visastats did about it (e.g. a footer total whose formula leaves
--          data rows out: the data rows are loaded, the printed total is not;
--          a negative count: withheld, with its value and place).
-- Inputs:  raw_ec_schengen_issues.
-- Grain:   one row per file, sheet and cell that disagrees with its data.
CREATE OR REPLACE TABLE upstream_issues AS
SELECT
    'ec_schengen_consulates' AS source,
    file_name AS file,
    sha256,
    year,
    sheet,
    cell,
    kind,
    indicator,
    location,
    printed_total,
    printed_formula,
    data_rows_total,
    explanation,
    cross_check,
    cross_check_status,
    handling,
    decision
FROM raw_ec_schengen_issues
ORDER BY source, file, sheet, cell;
