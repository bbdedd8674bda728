-- Purpose: Eurostat's first-instance decisions add up within Eurostat's
--          rounding: positive + rejected = total (POS + NEG, or TOTAL_POS +
--          REJECTED, vs TOTAL) and, in the current coding, POS_RFG + POS_HUM +
--          POS_SPROT = POS. Every figure is a count rounded to the nearest 5,
--          so it is off by at most 2 from the count it stands for, and a sum of
--          n parts may differ from its total by up to 2 * (n + 1): 6 for two
--          parts, 8 for three (in practice 0 or 5, all figures being multiples
--          of 5). Rows beyond that tolerance are listed; figures not available
--          (':') are not compared. Older positive decisions also counted
--          temporary protection, so their parts are not summed.
-- Severity: warning
-- Returns: one row per reporter, citizenship, period, sex, age and rule
--          beyond the tolerance (first 100).
WITH w AS (
    SELECT dataset, reporter, partner, period, sex, age,
        max(value) FILTER (WHERE indicator = 'decisions_total') AS total,
        max(value) FILTER (WHERE indicator = 'decisions_positive') AS positive,
        max(decision) FILTER (WHERE indicator = 'decisions_positive') AS positive_code,
        max(value) FILTER (WHERE indicator = 'decisions_rejected') AS rejected,
        max(decision) FILTER (WHERE indicator = 'decisions_rejected') AS rejected_code,
        max(value) FILTER (WHERE decision = 'POS_RFG') AS pos_rfg,
        max(value) FILTER (WHERE decision = 'POS_HUM') AS pos_hum,
        max(value) FILTER (WHERE decision = 'POS_SPROT') AS pos_sprot
    FROM observations
    WHERE dataset = 'eurostat_migr_asydcfsta' AND value IS NOT NULL
    GROUP BY ALL
),
rules AS (
    SELECT dataset, reporter, partner, period, sex, age,
           positive_code || ' + ' || rejected_code || ' vs TOTAL' AS rule,
           positive + rejected AS parts_sum, total AS whole, 2 AS parts
    FROM w WHERE positive IS NOT NULL AND rejected IS NOT NULL AND total IS NOT NULL
    UNION ALL
    SELECT dataset, reporter, partner, period, sex, age,
           'POS_RFG + POS_HUM + POS_SPROT vs POS',
           pos_rfg + pos_hum + pos_sprot, positive, 3
    FROM w WHERE positive_code = 'POS' AND pos_rfg IS NOT NULL AND pos_hum IS NOT NULL
             AND pos_sprot IS NOT NULL AND positive IS NOT NULL
)
SELECT dataset, reporter, partner, period, sex, age, rule, parts_sum, whole,
       parts_sum - whole AS difference, 2 * (parts + 1) AS tolerance
FROM rules
WHERE abs(parts_sum - whole) > 2 * (parts + 1)
ORDER BY ALL
LIMIT 100;
