package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/release"
)

// Claim statuses.
const (
	ClaimReproduced      = "reproduced"
	ClaimDiffers         = "differs"
	ClaimNotReproducible = "not_reproducible"
)

// roundAs rounds v the way a publisher rounded a figure.
func roundAs(v float64, rounding string) float64 {
	switch rounding {
	case "whole percent":
		return math.Round(v)
	case "one decimal":
		return math.Round(v*10) / 10
	case "two decimals":
		return math.Round(v*100) / 100
	case "thousands":
		return math.Round(v/1000) * 1000
	}
	return v
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// evaluateClaims runs each claim's metric in a transaction that is rolled
// back (a metric can read, never change, the data), compares it with the
// published figure at the published rounding, and records the outcome in
// the claims table.
func evaluateClaims(ctx context.Context, conn *sql.Conn) ([]release.Claim, error) {
	rows, err := conn.QueryContext(ctx, `SELECT claim_id, statement, published_in, published_url, expected, unit, rounding, caveat, implies, requires, metric_sql, implied_sql FROM claims ORDER BY claim_id`)
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	type claim struct {
		release.Claim
		requires, query, impliedQuery string
	}
	var claims []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.ID, &c.Statement, &c.Source, &c.URL, &c.Expected, &c.Unit, &c.Rounding, &c.Caveat, &c.Implies, &c.requires, &c.query, &c.impliedQuery); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claims: %w", err)
		}
		claims = append(claims, c)
	}
	rows.Close()
	var out []release.Claim
	for _, c := range claims {
		actual, qerr := claimMetric(ctx, conn, c.query)
		r := c.Claim
		switch {
		case qerr != nil:
			r.Status = ClaimNotReproducible
			r.Explanation = fmt.Sprintf("not reproducible from the loaded data: the metric cannot be computed (%v); it requires %s", qerr, c.requires)
		case actual == nil || math.IsNaN(*actual) || math.IsInf(*actual, 0):
			r.Status = ClaimNotReproducible
			// requires lists everything the metric needs, of which the
			// loaded data may hold a part (one of two years): say that
			// something of it is missing, not that all of it is.
			r.Explanation = "not reproducible from the loaded data, which lack some of what it requires: " + c.requires
			if c.impliedQuery == "" {
				break
			}
			later, err := claimMetric(ctx, conn, c.impliedQuery)
			if err != nil {
				return nil, fmt.Errorf("claim %s: implied_sql: %w", c.ID, err)
			}
			if later == nil || 1+c.Expected/100 == 0 {
				break
			}
			// A change of x percent from E to L means L = E * (1 + x/100).
			factor := 1 + c.Expected/100
			implied := *later / factor
			r.Implied = &implied
			r.Explanation += fmt.Sprintf(". The published %s and the claimed %+g%% imply %s of about %s (%s / %s); a published value of it would confirm or refute the claim",
				output.Thousands(int64(math.Round(*later))), c.Expected, c.Implies, output.Thousands(int64(math.Round(implied))),
				output.Thousands(int64(math.Round(*later))), strconv.FormatFloat(factor, 'f', -1, 64))
		default:
			r.Actual = actual
			got := roundAs(*actual, c.Rounding)
			if math.Abs(got-c.Expected) < 1e-9 {
				r.Status = ClaimReproduced
				r.Explanation = fmt.Sprintf("the data gives %s, %s at %s as published", fmtNum(math.Round(*actual*10000)/10000), fmtNum(got), c.Rounding)
			} else {
				r.Status = ClaimDiffers
				r.Explanation = fmt.Sprintf("published %s; the data gives %s (%s at %s)", fmtNum(c.Expected), fmtNum(math.Round(*actual*10000)/10000), fmtNum(got), c.Rounding)
			}
		}
		if _, err := conn.ExecContext(ctx, `UPDATE claims SET actual = ?, status = ?, explanation = ?, implied_value = ? WHERE claim_id = ?`,
			r.Actual, r.Status, r.Explanation, r.Implied, r.ID); err != nil {
			return nil, fmt.Errorf("claim %s: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func claimMetric(ctx context.Context, conn *sql.Conn, query string) (*float64, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var v sql.NullFloat64
	switch err := tx.QueryRowContext(ctx, query).Scan(&v); {
	case err == sql.ErrNoRows:
		return nil, nil
	case err != nil:
		return nil, err
	}
	if !v.Valid {
		return nil, nil
	}
	return &v.Float64, nil
}
