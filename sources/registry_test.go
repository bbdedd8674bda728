package sources

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// shippedConfig points every source at the real sample data in data/.
func shippedConfig() Config {
	return Config{
		Reference:      ReferenceConfig{Dir: "../data/reference"},
		ECSchengen:     ECSchengenConfig{Path: ecDataDir, Layouts: esCodeLists},
		Eurostat:       EurostatConfig{Paths: []string{"../data/eurostat"}, CodeLists: "../data/reference"},
		UNHCR:          UNHCRConfig{Paths: []string{"../data/unhcr"}, Releases: "../data/curated/unhcr_releases.csv"},
		RUMFA:          RUMFAConfig{Path: "../data/curated/ru_mfa_visas_published.csv"},
		Claims:         ClaimsConfig{Path: "../data/curated/claims.csv"},
		UpstreamIssues: UpstreamIssuesConfig{Path: "../data/curated/upstream_issues.csv"},
		// The shipped file holds its header only (UNHCR releases say what
		// they cover); the fixture holds a real statement.
		Coverage: PeriodCoverageConfig{Path: "testdata/period_coverage/period_coverage.csv"},
	}
}

// TestEverySourceLoadsItsRealData walks All: every source must list inputs
// that exist, have testdata of its own, and load its real files into at
// least one non-empty table. The two sources other tests read whole
// (unhcr, ru_mfa_published) are loaded once for all of them.
func TestEverySourceLoadsItsRealData(t *testing.T) {
	ctx := context.Background()
	for _, src := range All(shippedConfig()) {
		t.Run(src.Name(), func(t *testing.T) {
			if src.Name() != "reference" {
				if _, err := os.Stat(filepath.Join("testdata", src.Name())); err != nil {
					t.Errorf("source %s has no testdata/%s: %v", src.Name(), src.Name(), err)
				}
			}
			ins, err := src.Inputs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) == 0 {
				t.Fatal("no inputs")
			}
			var st Stats
			if shared, ok := sharedSources[src.Name()]; ok {
				_, stats := shared(t)
				st = stats[src.Name()]
			} else if st, err = src.Load(ctx, openTestDB(t)); err != nil {
				t.Fatal(err)
			}
			if st.Rows() == 0 {
				t.Errorf("loaded no rows: %+v", st)
			}
		})
	}
}

// sharedSources are the sources of All whose shipped inputs a shared load
// holds, with that load.
var sharedSources = map[string]func(testing.TB) (*sql.Conn, map[string]Stats){
	"unhcr":            shippedUNHCRAndMFA,
	"ru_mfa_published": shippedUNHCRAndMFA,
}

// openTestDB opens a private in-memory DuckDB database for one test; every
// source test uses it, so that tests share no state.
func openTestDB(t testing.TB) *sql.Conn {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
