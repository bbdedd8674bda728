-- Purpose: the series of the profile chart visas_issued_by_country: visas
--          issued by a country itself as its Foreign Ministry published
--          them (ru_mfa_visas_published: Russia's, as reported by news
--          agencies), one series per kind of visa and recipient. When two
--          publications give a figure for the same year, the first by
--          publisher is drawn and the point says so; each point says how
--          the figure was rounded and who published it.
-- Inputs:  ru_mfa_visas_published.
-- Grain:   one row per issuer, series and year (chart_* columns, see
--          105_chart_schengen_visas.sql).
CREATE OR REPLACE TABLE chart_visas_issued_by_country AS
WITH named AS (
    SELECT
        issuer AS country,
        indicator,
        recipient,
        CASE indicator WHEN 'visas_issued' THEN 'Visas' WHEN 'e_visas_issued' THEN 'E-visas' ELSE indicator END
        || ' issued to '
        || CASE recipient WHEN 'WORLD' THEN 'all foreigners' WHEN 'EU' THEN 'European nationals' ELSE coalesce(recipient_name, recipient) END AS series,
        year, value, precision, source_publisher,
        count(*) OVER (PARTITION BY issuer, indicator, recipient, year) AS publications
    FROM ru_mfa_visas_published
    QUALIFY row_number() OVER (PARTITION BY issuer, indicator, recipient, year ORDER BY source_publisher) = 1
)
SELECT
    country,
    CAST(dense_rank() OVER (PARTITION BY country ORDER BY indicator DESC, recipient DESC) AS INTEGER) AS series_order,
    series,
    year,
    CAST(value AS DOUBLE) AS value,
    false AS partial,
    list_filter([series || ': ' || precision || ', as published by ' || source_publisher,
                 CASE WHEN publications > 1 THEN series || ': ' || publications || ' publications give a figure; this is the first by publisher' END],
                x -> x IS NOT NULL) AS notes
FROM named
ORDER BY country, series_order, year;
