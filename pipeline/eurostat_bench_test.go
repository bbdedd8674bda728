package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// BenchmarkEurostatIngest compares, on one synthetic monthly file in the
// API TSV format (sources.WriteSyntheticEurostatTSV), three ways to get it
// into DuckDB:
//
//	(a) read_csv(all_varchar) into a wide table: the floor, no long form;
//	(b) (a) followed by a plain SQL UNPIVOT into a long table, dimensions
//	    split and value and flags split in SQL: the naive reference;
//	(c) visastats' ingest up to observations: inputs hashed and recorded,
//	    every source loaded (the synthetic file as eurostat_asylum, the
//	    shipped reference, UNHCR and MFA files and the 2023 EC workbook),
//	    the transforms through observations and the checks declared after
//	    them. The other sources' share is printed apart.
//
// Then the same full scan (count, non-NULL values, sum) runs over (b)'s
// long table and over observations, whose Eurostat part is a view joining
// the narrow cells to their series: the cost of reading what was stored.
//
// Each phase runs in a child process (the test binary itself) against its
// own file-backed database, so that its peak RSS can be read from rusage.
//
//	go test ./pipeline -run '^$' -bench 'BenchmarkEurostatIngest/5M' -benchtime 1x
//	go test ./pipeline -run '^$' -bench 'BenchmarkEurostatIngest/50M' -benchtime 1x -timeout 60m
func BenchmarkEurostatIngest(b *testing.B) {
	for _, size := range []struct {
		name            string
		series, periods int
	}{
		{"5M", 25_000, 200},
		{"50M", 250_000, 200},
	} {
		b.Run(size.name, func(b *testing.B) {
			dir := b.TempDir()
			file := filepath.Join(dir, "migr_asyappctzm_synthetic.tsv")
			writeSyntheticEurostat(b, file, size.series, size.periods)
			fi, _ := os.Stat(file)
			cells := int64(size.series) * int64(size.periods)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a := runEurostatBenchChild(b, "a", file, dir)
				bb := runEurostatBenchChild(b, "b", file, dir)
				c := runEurostatBenchChild(b, "c", file, dir)
				if c.rows != cells || bb.rows != cells || a.rows != cells {
					b.Fatalf("cells: wide %d, naive %d, observations %d, want %d", a.rows, bb.rows, c.rows, cells)
				}
				var out strings.Builder
				fmt.Fprintf(&out, "\nsynthetic migr_asyappctzm TSV: %d series x %d months = %d cells, %.0f MB\n",
					size.series, size.periods, cells, float64(fi.Size())/1e6)
				fmt.Fprintf(&out, "%-58s %9s %10s %13s %14s\n", "phase", "seconds", "Mcells/s", "peak RSS MB", "process CPU s")
				row := func(name string, sec float64, r eurostatBenchResult) {
					rss, cpu := "", ""
					if r.maxRSSKB > 0 {
						rss, cpu = fmt.Sprintf("%.0f", float64(r.maxRSSKB)/1024), fmt.Sprintf("%.1f", r.cpu)
					}
					fmt.Fprintf(&out, "%-58s %9.2f %10.2f %13s %14s\n", name, sec, float64(cells)/sec/1e6, rss, cpu)
				}
				row("(a) read_csv all_varchar -> wide (floor)", a.seconds, a)
				row("(b) read_csv + SQL UNPIVOT -> long table (naive)", bb.seconds, bb)
				row("    of which the UNPIVOT", bb.part, eurostatBenchResult{})
				row("(c) visastats ingest -> observations", c.seconds, c)
				row("    of which the other sources and reference data", c.part, eurostatBenchResult{})
				row("scan of (b)'s long table", bb.scan, eurostatBenchResult{})
				row("scan of observations (Eurostat rows, through the view)", c.scan, eurostatBenchResult{})
				fmt.Fprintf(&out, "(c)/(a) = %.2f   (target <= 2)\n", c.seconds/a.seconds)
				fmt.Fprintf(&out, "(b)/(c) = %.2f   (target >= 4)\n", bb.seconds/c.seconds)
				fmt.Fprintf(&out, "the scans: observations / long table = %.2f\n", c.scan/bb.scan)
				fmt.Print(out.String())
				b.ReportMetric(c.seconds/a.seconds, "c/a")
				b.ReportMetric(bb.seconds/c.seconds, "b/c")
				b.ReportMetric(float64(c.maxRSSKB)/1024, "c_peakRSS_MB")
				b.ReportMetric(float64(cells)/c.seconds/1e6, "c_Mcells/s")
			}
		})
	}
}

type eurostatBenchResult struct {
	seconds  float64 // the phase, timed inside the child
	part     float64 // (b): the UNPIVOT alone; (c): the other sources
	scan     float64 // the full scan after the phase
	rows     int64   // cells in the result
	maxRSSKB int64
	cpu      float64 // user + system seconds of the whole child
}

// runEurostatBenchChild runs one phase in a child process and reads its
// timing from stdout and its peak RSS from rusage.
func runEurostatBenchChild(b *testing.B, phase, file, dir string) eurostatBenchResult {
	b.Helper()
	db := filepath.Join(dir, "bench_"+phase+".duckdb")
	defer os.Remove(db)
	defer os.Remove(db + ".wal")
	line, rss, cpu := benchChild(b, "TestEurostatBenchChild", "EUROSTAT_BENCH_RESULT",
		"EUROSTAT_BENCH_PHASE="+phase, "EUROSTAT_BENCH_FILE="+file, "EUROSTAT_BENCH_DB="+db)
	r := eurostatBenchResult{maxRSSKB: rss, cpu: cpu}
	if _, err := fmt.Sscanf(line, "seconds=%g part=%g scan=%g rows=%d", &r.seconds, &r.part, &r.scan, &r.rows); err != nil {
		b.Fatalf("phase %s: %v in %q", phase, err, line)
	}
	return r
}

// eurostatOwnStages are the stages of (c) that belong to the Eurostat file;
// the others (reference data and the small sources) are reported apart.
var eurostatOwnStages = map[string]bool{
	"load/eurostat_asylum":             true,
	"transform/country_codes_eurostat": true,
	"transform/eurostat_series":        true,
	"transform/eurostat_superseded":    true,
	"transform/observations_eurostat":  true,
	"transform/observations":           true,
}

// TestEurostatBenchChild is the child side of BenchmarkEurostatIngest; it
// does nothing unless EUROSTAT_BENCH_PHASE is set.
func TestEurostatBenchChild(t *testing.T) {
	phase := os.Getenv("EUROSTAT_BENCH_PHASE")
	if phase == "" {
		t.Skip("child process of BenchmarkEurostatIngest")
	}
	file, dbPath := os.Getenv("EUROSTAT_BENCH_FILE"), os.Getenv("EUROSTAT_BENCH_DB")
	ctx := context.Background()
	db, err := openDB(dbPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	scan := func(from string) (float64, int64) {
		t.Helper()
		start := time.Now()
		var n, values int64
		var sum float64
		if err := conn.QueryRowContext(ctx, "SELECT count(*), count(value), coalesce(sum(value), 0) FROM "+from).Scan(&n, &values, &sum); err != nil {
			t.Fatal(err)
		}
		return time.Since(start).Seconds(), n
	}
	var sec, part, scanSec float64
	var rows int64
	readWide := `CREATE TABLE wide AS SELECT * FROM read_csv(?, all_varchar=true, delim='\t', header=true)`
	switch phase {
	case "a":
		start := time.Now()
		exec(readWide, file)
		sec = time.Since(start).Seconds()
		// Cells in the wide table: rows times period columns.
		var cols, n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) - 1 FROM duckdb_columns() WHERE table_name = 'wide'").Scan(&cols); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM wide").Scan(&n); err != nil {
			t.Fatal(err)
		}
		rows = n * cols
	case "b":
		start := time.Now()
		exec(readWide, file)
		mid := time.Now()
		dims := `"freq,unit,citizen,sex,age,applicant,geo\TIME_PERIOD"`
		exec(`CREATE TABLE long AS
			SELECT 'migr_asyappctzm' AS dataset, ? AS file, line,
			       split_part(d, ',', 1) AS freq, split_part(d, ',', 2) AS unit, split_part(d, ',', 3) AS citizen,
			       split_part(d, ',', 4) AS sex, split_part(d, ',', 5) AS age, split_part(d, ',', 6) AS applicant,
			       split_part(d, ',', 7) AS geo, trim(period) AS period,
			       TRY_CAST(NULLIF(split_part(trim(cell), ' ', 1), ':') AS DOUBLE) AS value,
			       trim(substr(trim(cell), length(split_part(trim(cell), ' ', 1)) + 1)) AS flags
			FROM (
			    UNPIVOT (SELECT rowid + 2 AS line, `+dims+` AS d, * EXCLUDE (`+dims+`) FROM wide)
			    ON COLUMNS(* EXCLUDE (line, d)) INTO NAME period VALUE cell
			)`, file)
		end := time.Now()
		sec, part = end.Sub(start).Seconds(), end.Sub(mid).Seconds()
		scanSec, rows = scan("long")
	case "c":
		cfg := testConfig(t, sources.ECSchengenConfig{Path: ectest.File(t, "2023")})
		cfg.Sources.Eurostat.Paths = []string{file}
		start := time.Now()
		srcs := sources.All(cfg.SourceConfig())
		inputs, err := describeInputs(ctx, srcs)
		if err != nil {
			t.Fatal(err)
		}
		rep := &Report{}
		if err := build(ctx, conn, srcs, inputs, cfg.Limits, "", rep, quietLog(), "observations"); err != nil {
			t.Fatal(err)
		}
		sec = time.Since(start).Seconds()
		for _, s := range rep.Stages {
			if !eurostatOwnStages[s.Stage+"/"+s.Name] {
				part += s.Duration.Seconds()
			}
		}
		scanSec, rows = scan("observations WHERE dataset = 'eurostat_migr_asyappctzm'")
	default:
		t.Fatalf("unknown phase %q", phase)
	}
	fmt.Printf("EUROSTAT_BENCH_RESULT seconds=%g part=%g scan=%g rows=%d\n", sec, part, scanSec, rows)
}
