package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryReadOnly runs the query command's statement gate and settings on
// a database file: SELECTs answer, every statement that could write, leave
// the database, change the settings or run more than one statement is
// refused, and the database file is byte for byte what it was.
func TestQueryReadOnly(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "visastats.duckdb")
	db, err := openDB(dbPath, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE observations AS SELECT 'RU' AS partner, 2023 AS year, 520402.0 AS value`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret.csv")
	if err := os.WriteFile(secret, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Database: dbPath}
	ctx := context.Background()
	run := func(stmt string) ([]string, int64, error) {
		var cols []string
		n, err := Query(ctx, cfg, stmt, func(c []string) error { cols = c; return nil }, func([]any) error { return nil })
		return cols, n, err
	}

	for _, stmt := range []string{
		`SELECT value FROM observations WHERE partner = 'RU'`,
		`WITH o AS (SELECT * FROM observations) SELECT year, value FROM o`,
		`FROM observations`,
	} {
		if _, n, err := run(stmt); err != nil || n != 1 {
			t.Errorf("%s: %d rows, %v; want 1 row", stmt, n, err)
		}
	}

	// refusedByGate are not SELECTs: the parser check refuses them before
	// anything runs. refusedBySettings are SELECTs that read outside the
	// database: the settings refuse them.
	refusedByGate := []string{
		`COPY observations TO '` + dbPath + `'`,
		`COPY (SELECT 1) TO '` + filepath.Join(dir, "out.csv") + `'`,
		`EXPORT DATABASE '` + filepath.Join(dir, "export") + `'`,
		`ATTACH '` + filepath.Join(dir, "other.duckdb") + `' AS other`,
		`INSTALL httpfs`,
		`LOAD httpfs`,
		`SET threads = 1`,
		`SET enable_external_access = true`,
		`PRAGMA version`,
		`CALL pragma_version()`,
		`DELETE FROM observations`,
		`CREATE TABLE x AS SELECT 1`,
		`SELECT 1; SELECT 2`,
		`SELECT 1; COPY observations TO '` + dbPath + `'`,
		`EXPLAIN SELECT 1`,
	}
	for _, stmt := range refusedByGate {
		_, _, err := run(stmt)
		if !errors.Is(err, ErrNotSelect) {
			t.Errorf("%s: err = %v, want ErrNotSelect", stmt, err)
		} else if !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: message %q does not say read-only", stmt, err)
		}
	}
	refusedBySettings := []string{
		`SELECT * FROM read_csv('/etc/passwd')`,
		`SELECT * FROM read_csv('` + secret + `')`,
		`SELECT * FROM '` + secret + `'`,
		`SELECT * FROM read_parquet('https://example.org/x.parquet')`,
	}
	for _, stmt := range refusedBySettings {
		if _, n, err := run(stmt); err == nil {
			t.Errorf("%s: answered %d rows, want an error", stmt, n)
		}
	}
	var got []string
	// The database file is attached read-only (openDatabase): its
	// duckdb_databases() row says so, not the instance's access_mode.
	_, err = Query(ctx, cfg, `SELECT name || '=' || value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'autoinstall_known_extensions', 'autoload_known_extensions', 'lock_configuration')
		UNION ALL SELECT 'read_only=' || readonly FROM duckdb_databases() WHERE database_name = current_database() ORDER BY 1`,
		func([]string) error { return nil },
		func(r []any) error { got = append(got, r[0].(string)); return nil })
	want := "autoinstall_known_extensions=false autoload_known_extensions=false enable_external_access=false lock_configuration=true read_only=true"
	if err != nil || strings.ToLower(strings.Join(got, " ")) != want {
		t.Errorf("settings = %v, %v; want %s", got, err, want)
	}
	after, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("the database file changed")
	}
	for _, p := range []string{"out.csv", "export", "other.duckdb"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}
