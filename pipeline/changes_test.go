package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A rerun on top of a published release lists exactly what changed in the
// inputs: the curated RU MFA file with one figure revised and one added,
// every other input unchanged (their datasets and years are compared whole
// and not joined row by row). A removed figure is refused before this
// (coverage_not_shrunk). With output.keep 1 the previous release is pruned
// once the new one is published; the database left behind still answers
// every query (it holds no view over the pruned files).
func TestObservationChanges(t *testing.T) {
	t.Parallel()
	cfg := copyBuild(t, tinyBuild(t))
	b, err := os.ReadFile("../data/curated/ru_mfa_visas_published.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	var out []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "visas_issued,RU,WORLD,2022,512000,"):
			out = append(out, strings.Replace(l, ",512000,", ",513000,", 1))           // revised
			out = append(out, strings.Replace(l, ",2022,512000,", ",2021,498000,", 1)) // new
		default:
			out = append(out, l)
		}
	}
	if len(out) != len(lines)+1 {
		t.Fatalf("the shipped file no longer has the edited lines: %d lines, %d after the edit", len(lines), len(out))
	}
	edited := filepath.Join(t.TempDir(), "ru_mfa_visas_published.csv")
	if err := os.WriteFile(edited, []byte(strings.Join(out, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Sources.RUMFA.Path = edited
	cfg.Output.Keep = 1
	rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Changes; c == nil || c.New != 1 || c.Removed != 0 || c.Revised != 1 {
		t.Fatalf("changes %+v, want one new and one revised", c)
	}
	db := openDuck(t)
	rows, err := db.Query(`SELECT change, indicator, year, coalesce(CAST(previous_value AS VARCHAR), '-'), coalesce(CAST(value AS VARCHAR), '-')
		FROM read_parquet(?) ORDER BY change`, filepath.Join(cfg.Output.Dir, "latest", "observation_changes.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var change, indicator, before, after string
		var year int
		if err := rows.Scan(&change, &indicator, &year, &before, &after); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{change, indicator, strconv.Itoa(year), before, after}, " "))
	}
	want := []string{
		"new visas_issued 2021 - 498000.0",
		"revised visas_issued 2022 512000.0 513000.0",
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("observation_changes:\n got %q\nwant %q", got, want)
	}

	if _, err := os.Stat(filepath.Join(cfg.Output.Dir, "releases", rep.Previous)); !os.IsNotExist(err) {
		t.Fatalf("previous release %s not pruned with keep 1: %v", rep.Previous, err)
	}
	kept, err := openDB(cfg.Database, true)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	views, err := kept.Query(`SELECT view_name FROM duckdb_views() WHERE NOT internal`)
	if err != nil {
		t.Fatal(err)
	}
	defer views.Close()
	n := 0
	for views.Next() {
		var name string
		if err := views.Scan(&name); err != nil {
			t.Fatal(err)
		}
		var rows int64
		if err := kept.QueryRow(`SELECT count(*) FROM ` + name).Scan(&rows); err != nil {
			t.Errorf("the kept database's view %s fails once the previous release is pruned: %v", name, err)
		}
		n++
	}
	if n == 0 {
		t.Error("the kept database has no views")
	}
}
