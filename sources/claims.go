package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ClaimsConfig locates the registry of published claims.
type ClaimsConfig struct {
	Path string `mapstructure:"path"`
	// Limits bound what is read from the file; set from the top-level
	// limits configuration, zero means the defaults.
	Limits Limits `mapstructure:"-"`
}

// claimsColumns is the registry's header.
// unit says what the published figure counts ("percent" for a change);
// caveat, when the statement's wording says something other than what the
// data measure, says how they differ and is shown beside the status;
// published_url links to the publication when one is known; implied_sql,
// for a percent change that the data cannot reproduce, gives the later
// figure that is known, so that the earlier figure the claim implies
// (later / (1 + change)) can be shown, and implies says what that is.
var claimsColumns = []string{"claim_id", "statement", "published_in", "metric", "metric_sql", "expected", "rounding", "requires", "note",
	"unit", "caveat", "published_url", "implied_sql", "implies"}

// claimsOptional are the registry columns that may be empty.
var claimsOptional = map[string]bool{"note": true, "caveat": true, "published_url": true, "implied_sql": true, "implies": true}

// ClaimRoundings are the ways a published figure may have been rounded.
var ClaimRoundings = []string{"exact", "whole percent", "one decimal", "two decimals", "thousands"}

// Claims loads the registry of figures published by others (news articles,
// ministries) that every run checks against the data.
type Claims struct {
	cfg ClaimsConfig
}

// NewClaims returns the claims registry source.
func NewClaims(cfg ClaimsConfig) *Claims { return &Claims{cfg: cfg} }

// Name implements Source.
func (c *Claims) Name() string { return "claims" }

// Inputs implements Source.
func (c *Claims) Inputs(ctx context.Context) ([]Input, error) {
	if c.cfg.Path == "" {
		return nil, errors.New("claims: path is empty; set it to the claims registry CSV")
	}
	if err := checkFileName(c.cfg.Path); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if _, err := os.Stat(c.cfg.Path); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return []Input{{Path: c.cfg.Path}}, nil
}

// Load implements Source: it validates the registry and writes raw_claims.
func (c *Claims) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	if _, err := c.Inputs(ctx); err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TABLE raw_claims (
		file VARCHAR NOT NULL, line INTEGER NOT NULL, claim_id VARCHAR NOT NULL, statement VARCHAR NOT NULL,
		published_in VARCHAR NOT NULL, metric VARCHAR NOT NULL, metric_sql VARCHAR NOT NULL,
		expected DOUBLE NOT NULL, rounding VARCHAR NOT NULL, requires VARCHAR NOT NULL, note VARCHAR NOT NULL,
		unit VARCHAR NOT NULL, caveat VARCHAR NOT NULL, published_url VARCHAR NOT NULL, implied_sql VARCHAR NOT NULL, implies VARCHAR NOT NULL)`); err != nil {
		return st, fmt.Errorf("create raw_claims: %w", err)
	}
	path := c.cfg.Path
	n, err := appendRows(ctx, conn, "raw_claims", func(add func(...driver.Value) error) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		defer f.Close()
		r := csv.NewReader(newRecordLimitReader(newLineLimitReader(f, c.cfg.Limits), path, 1, c.cfg.Limits))
		head, err := r.Read()
		var le *LocatedError
		if errors.As(err, &le) {
			return err // over a limit, located already
		}
		if err != nil {
			return fmt.Errorf("read %s: header: %w", path, err)
		}
		if strings.Join(head, ",") != strings.Join(claimsColumns, ",") {
			return &LocatedError{File: path, Line: 1, Value: strings.Join(head, ","), Err: fmt.Errorf("expected the header %s", strings.Join(claimsColumns, ","))}
		}
		seen := map[string]int{}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return nil
			}
			line, _ := r.FieldPos(0)
			if errors.As(err, &le) {
				return err
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			bad := func(col, val string, e error) error {
				return &LocatedError{File: path, Line: int64(line), Column: col, Value: val, Err: e}
			}
			for i, name := range claimsColumns {
				if !claimsOptional[name] && strings.TrimSpace(rec[i]) == "" {
					return bad(name, "", errors.New("empty value"))
				}
			}
			id := rec[0]
			if prev, ok := seen[id]; ok {
				return bad("claim_id", id, fmt.Errorf("claim id already used on line %d", prev))
			}
			seen[id] = line
			for _, i := range []int{4, 12} {
				if i == 12 && rec[i] == "" {
					continue
				}
				q := strings.ToUpper(strings.TrimSpace(rec[i]))
				if !strings.HasPrefix(q, "SELECT") && !strings.HasPrefix(q, "WITH") {
					return bad(claimsColumns[i], rec[i], errors.New("expected one SELECT query"))
				}
				if strings.Contains(strings.TrimSuffix(strings.TrimSpace(rec[i]), ";"), ";") {
					return bad(claimsColumns[i], rec[i], errors.New("expected one statement"))
				}
			}
			if u := rec[11]; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				return bad("published_url", u, errors.New("expected an http(s) URL or nothing"))
			}
			if (rec[12] == "") != (rec[13] == "") {
				return bad("implies", rec[13], errors.New("implied_sql and implies go together: give both or neither"))
			}
			if rec[12] != "" && rec[9] != "percent" {
				return bad("implied_sql", rec[12], errors.New("an implied figure is computed only for a change in percent (unit percent)"))
			}
			expected, err := strconv.ParseFloat(strings.TrimPrefix(rec[5], "+"), 64)
			if err != nil {
				return bad("expected", rec[5], errors.New("expected a number"))
			}
			known := false
			for _, r := range ClaimRoundings {
				known = known || rec[6] == r
			}
			if !known {
				return bad("rounding", rec[6], fmt.Errorf("expected one of %s", strings.Join(ClaimRoundings, ", ")))
			}
			if err := add(path, int32(line), rec[0], rec[1], rec[2], rec[3], rec[4], expected, rec[6], rec[7], rec[8],
				rec[9], rec[10], rec[11], rec[12], rec[13]); err != nil {
				return err
			}
		}
	})
	if err != nil {
		return st, err
	}
	st.add("raw_claims", n)
	return st, nil
}
