package sources

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPeriodCoverageRealFile(t *testing.T) {
	conn := openTestDB(t)
	st, err := NewPeriodCoverage(PeriodCoverageConfig{Path: "testdata/period_coverage/period_coverage.csv"}).Load(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows() != 1 {
		t.Fatalf("rows = %d, want 1", st.Rows())
	}
	var sha string
	var year, first, last int
	if err := conn.QueryRowContext(context.Background(), `SELECT sha256, year, first_month, last_month FROM raw_period_coverage`).Scan(&sha, &year, &first, &last); err != nil {
		t.Fatal(err)
	}
	// The statement is about the bytes of the shipped mid-year export.
	_, want, err := FileDigest("testdata/unhcr/rdf_asylum-applications_europe-origins_2010-2023.csv")
	if err != nil {
		t.Fatal(err)
	}
	if sha != want || year != 2023 || first != 1 || last != 6 {
		t.Errorf("got %s %d %d-%d, want %s 2023 1-6", sha, year, first, last, want)
	}
}

func TestPeriodCoverageBadRows(t *testing.T) {
	const head = "sha256,source,file,year,first_month,last_month,known_from\n"
	sha := strings.Repeat("ab", 32)
	cases := []struct {
		name, body, want string
	}{
		{"header", "sha,source\n", "line 1: expected the header"},
		{"short hash", head + "abc,unhcr,f.csv,2023,1,6,mid-year release\n", "line 2 column sha256: expected the input's full SHA-256"},
		{"source", head + sha + ",eurostat,f.csv,2023,1,6,mid-year release\n", "line 2 column source: expected the name of a source: reference, ec_schengen_consulates, eurostat_asylum, unhcr"},
		{"month", head + sha + ",unhcr,f.csv,2023,7,6,mid-year release\n", "line 2 column last_month: expected a whole number from 7 to 12"},
		{"whole year", head + sha + ",unhcr,f.csv,2023,1,12,x\n", "line 2 column last_month: a row states a partial period"},
		{"no citation", head + sha + ",unhcr,f.csv,2023,1,6,\n", "line 2 column known_from: empty value"},
		{"twice", head + sha + ",unhcr,f.csv,2023,1,6,x\n" + sha + ",unhcr,f.csv,2023,1,3,y\n", "line 3 column year: this input and year are already stated on line 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "period_coverage.csv")
			if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := NewPeriodCoverage(PeriodCoverageConfig{Path: path}).Load(context.Background(), openTestDB(t))
			var ce *LocatedError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want a *LocatedError containing %q", err, c.want)
			}
		})
	}
}
