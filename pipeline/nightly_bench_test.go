package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkNightlyRun runs the whole nightly `visastats run` (config.yaml's
// shipped data plus one synthetic monthly Eurostat file of 5M or 50M
// cells; at 5M also with the partitioned layout) beside two floors
// measured on the same file and database:
//
//   - DuckDB's read_csv of the synthetic file (all_varchar, into a table);
//   - DuckDB's unsorted COPY of the finished observations to zstd Parquet.
//
// Each runs in a child process (the test binary itself), so that its peak
// RSS is its own (rusage of the child). It prints visastats' load, checks,
// export of observations.parquet and whole run from the run's stage
// timings, the ratios to the floors and the growth of the run's peak RSS
// from 5M to 50M cells; then the same run again on top of the release it
// published, as the next night's run (compared with it), whole. Nothing
// asserts a timing.
//
//	go test ./pipeline -run '^$' -bench 'BenchmarkNightlyRun/5M' -benchtime 1x
//	go test ./pipeline -run '^$' -bench 'BenchmarkNightlyRun' -benchtime 1x -timeout 90m
func BenchmarkNightlyRun(b *testing.B) {
	var rss5M int64
	for _, size := range []struct {
		name            string
		series, periods int
		layout          string
	}{
		{"5M", 25_000, 200, LayoutFile},
		{"5M-partitioned", 25_000, 200, LayoutPartitioned},
		{"50M", 250_000, 200, LayoutFile},
	} {
		b.Run(size.name, func(b *testing.B) {
			dir := b.TempDir()
			data := filepath.Join(dir, "eurostat")
			if err := os.MkdirAll(data, 0o755); err != nil {
				b.Fatal(err)
			}
			file := filepath.Join(data, "migr_asyappctzm_synthetic.tsv")
			writeSyntheticEurostat(b, file, size.series, size.periods)
			cells := int64(size.series) * int64(size.periods)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				csv := runEurostatBenchChild(b, "a", file, dir)
				run := runNightlyChild(b, "run", data, dir, size.layout)
				cp := runNightlyChild(b, "copy", data, dir, size.layout)
				// The next night: the same inputs on top of that release,
				// compared with it (observation_changes).
				again := runNightlyChild(b, "run", data, dir, size.layout)
				if run.rows < cells || cp.rows != run.rows {
					b.Fatalf("observations: run %d, COPY %d rows, want at least %d", run.rows, cp.rows, cells)
				}
				var out strings.Builder
				fmt.Fprintf(&out, "\nwhole run with a synthetic migr_asyappctzm of %d series x %d months = %d cells (%d observations), observations_layout %s\n",
					size.series, size.periods, cells, run.rows, size.layout)
				fmt.Fprintf(&out, "%-46s %9s %13s\n", "phase", "seconds", "peak RSS MB")
				mb := func(kb int64) string { return fmt.Sprintf("%.0f", float64(kb)/1024) }
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "floor: DuckDB read_csv of the file", csv.seconds, mb(csv.maxRSSKB))
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "floor: DuckDB unsorted COPY of observations", cp.seconds, mb(cp.maxRSSKB))
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "visastats load (every source)", run.load, "")
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "visastats checks", run.checks, "")
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "visastats export of observations ("+size.layout+")", run.export, "")
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "visastats whole run", run.seconds, mb(run.maxRSSKB))
				fmt.Fprintf(&out, "%-46s %9.2f %13s\n", "visastats whole run again, on top of it", again.seconds, mb(again.maxRSSKB))
				met := func(ok bool) string {
					if ok {
						return "met"
					}
					return "NOT met"
				}
				r1 := run.seconds / (csv.seconds + cp.seconds)
				r2 := run.export / cp.seconds
				r3 := again.seconds / (csv.seconds + cp.seconds)
				fmt.Fprintf(&out, "whole run / (read_csv + COPY) = %.2f   (target <= 3: %s)\n", r1, met(r1 <= 3))
				fmt.Fprintf(&out, "the run again / (read_csv + COPY) = %.2f (target <= 3: %s)\n", r3, met(r3 <= 3))
				fmt.Fprintf(&out, "export / COPY                 = %.2f   (target <= 2: %s)\n", r2, met(r2 <= 2))
				peak := max(run.maxRSSKB, again.maxRSSKB)
				fmt.Fprintf(&out, "peak RSS of the whole runs    = %s MB (target <= 2048: %s)\n", mb(peak), met(peak <= 2<<20))
				if size.name == "5M" {
					rss5M = peak
				} else if size.name == "50M" && rss5M > 0 {
					g := float64(peak) / float64(rss5M)
					fmt.Fprintf(&out, "peak RSS 50M / 5M             = %.2f   (target < 3: %s)\n", g, met(g < 3))
				}
				fmt.Print(out.String())
				b.ReportMetric(r1, "run/floors")
				b.ReportMetric(r2, "export/copy")
				b.ReportMetric(r3, "again/floors")
				b.ReportMetric(float64(peak)/1024, "run_peakRSS_MB")
			}
		})
	}
}

type nightlyBenchResult struct {
	seconds, load, checks, export float64
	rows                          int64 // observations
	maxRSSKB                      int64
}

// runNightlyChild runs one phase of BenchmarkNightlyRun in a child process
// and reads its timings from stdout and its peak RSS from rusage.
func runNightlyChild(b *testing.B, phase, data, dir string, layout string) nightlyBenchResult {
	b.Helper()
	line, rss, _ := benchChild(b, "TestNightlyBenchChild", "NIGHTLY_BENCH_RESULT",
		"NIGHTLY_BENCH_PHASE="+phase, "NIGHTLY_BENCH_DATA="+data, "NIGHTLY_BENCH_DIR="+dir, "NIGHTLY_BENCH_LAYOUT="+layout)
	r := nightlyBenchResult{maxRSSKB: rss}
	if _, err := fmt.Sscanf(line, "seconds=%g load=%g checks=%g export=%g rows=%d", &r.seconds, &r.load, &r.checks, &r.export, &r.rows); err != nil {
		b.Fatalf("phase %s: %v in %q", phase, err, line)
	}
	return r
}

// TestNightlyBenchChild is the child side of BenchmarkNightlyRun; it does
// nothing unless NIGHTLY_BENCH_PHASE is set. "run" runs visastats with
// config.yaml, its Eurostat files plus those in NIGHTLY_BENCH_DATA, into
// NIGHTLY_BENCH_DIR; "copy" copies that run's observations to Parquet
// with DuckDB's defaults.
func TestNightlyBenchChild(t *testing.T) {
	phase := os.Getenv("NIGHTLY_BENCH_PHASE")
	if phase == "" {
		t.Skip("child process of BenchmarkNightlyRun")
	}
	data, dir := os.Getenv("NIGHTLY_BENCH_DATA"), os.Getenv("NIGHTLY_BENCH_DIR")
	cfg, err := LoadConfig("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = filepath.Join(dir, "nightly.duckdb")
	cfg.Output.Dir = filepath.Join(dir, "out")
	cfg.Sources.Eurostat.Paths = append(cfg.Sources.Eurostat.Paths, data)
	cfg.Output.ObservationsLayout = os.Getenv("NIGHTLY_BENCH_LAYOUT")
	ctx := context.Background()
	var res nightlyBenchResult
	switch phase {
	case "run":
		start := time.Now()
		rep, err := Run(ctx, cfg, quietLog(), RunOptions{Force: true})
		if err != nil {
			t.Fatal(err)
		}
		res.seconds = time.Since(start).Seconds()
		for _, s := range rep.Stages {
			switch {
			case s.Stage == "load":
				res.load += s.Duration.Seconds()
			case s.Stage == "checks":
				res.checks += s.Duration.Seconds()
			case s.Stage == "export" && (s.Name == "observations.parquet" || s.Name == "observations/"):
				res.export += s.Duration.Seconds()
			}
		}
		res.rows = rep.Tables["observations"]
	case "copy":
		db, err := openDB(cfg.Database, true)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		out := filepath.Join(dir, "copy_floor.parquet")
		defer os.Remove(out)
		start := time.Now()
		r, err := db.ExecContext(ctx, "COPY (SELECT * FROM observations) TO "+sqlString(out)+" (FORMAT parquet, COMPRESSION zstd)")
		if err != nil {
			t.Fatal(err)
		}
		res.seconds = time.Since(start).Seconds()
		if res.rows, err = r.RowsAffected(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown phase %q", phase)
	}
	if res.seconds == 0 {
		res.seconds = 1e-9
	}
	fmt.Printf("NIGHTLY_BENCH_RESULT seconds=%g load=%g checks=%g export=%g rows=%d\n", res.seconds, res.load, res.checks, res.export, res.rows)
}
