package sources

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkEurostatIngest compares, on one synthetic monthly file in the
// API TSV format, three ways to get it into DuckDB:
//
//	(a) read_csv(all_varchar) into a wide table: the floor, no long form;
//	(b) (a) followed by a plain SQL UNPIVOT into raw_eurostat_asylum, with
//	    value and flags split in SQL: the naive reference;
//	(c) this source's Load into raw_eurostat_asylum;
//	(d) for scale, DuckDB copying the finished long table into a new one
//	    (CREATE TABLE AS SELECT *): storing the long form with no parsing
//	    at all, the floor for any way of producing it.
//
// Each phase runs in a child process (the test binary itself) against its
// own file-backed database, so that its peak RSS can be read from rusage.
// Sizes are sub-benchmarks:
//
//	go test ./sources -run '^$' -bench 'BenchmarkEurostatIngest/5M' -benchtime 1x
//	go test ./sources -run '^$' -bench 'BenchmarkEurostatIngest/50M' -benchtime 1x -timeout 30m
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
			f, err := os.Create(file)
			if err != nil {
				b.Fatal(err)
			}
			if err := WriteSyntheticEurostatTSV(f, size.series, size.periods, 1); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			fi, _ := os.Stat(file)
			cells := int64(size.series) * int64(size.periods)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a := runEurostatBenchChild(b, "a", file, dir)
				bb := runEurostatBenchChild(b, "b", file, dir)
				c := runEurostatBenchChild(b, "c", file, dir)
				d := runEurostatBenchChild(b, "d", file, dir)
				if c.rows != cells || bb.rows != cells {
					b.Fatalf("rows: naive %d, source %d, want %d", bb.rows, c.rows, cells)
				}
				var out strings.Builder
				fmt.Fprintf(&out, "\nsynthetic migr_asyappctzm TSV: %d series x %d months = %d cells, %.0f MB\n",
					size.series, size.periods, cells, float64(fi.Size())/1e6)
				fmt.Fprintf(&out, "%-50s %9s %10s %13s %14s\n", "phase", "seconds", "Mcells/s", "peak RSS MB", "process CPU s")
				row := func(name string, sec float64, r eurostatBenchResult) {
					fmt.Fprintf(&out, "%-50s %9.2f %10.2f %13.0f %14.1f\n", name, sec, float64(cells)/sec/1e6, float64(r.maxRSSKB)/1024, r.cpu)
				}
				row("(a) read_csv all_varchar -> wide (floor)", a.seconds, a)
				row("(b) read_csv + SQL UNPIVOT -> long (naive)", bb.seconds, bb)
				row("    of which the UNPIVOT alone", bb.seconds2, eurostatBenchResult{})
				row("(c) eurostat source Load -> long", c.seconds, c)
				row("(d) CTAS copy of the long table (storage floor)", d.seconds2, d)
				fmt.Fprintf(&out, "(c)/(a) = %.2f   (target <= 2)\n", c.seconds/a.seconds)
				fmt.Fprintf(&out, "(b)/(c) = %.2f   (target >= 4; UNPIVOT alone / (c) = %.2f)\n", bb.seconds/c.seconds, bb.seconds2/c.seconds)
				fmt.Fprintf(&out, "(c)/(d) = %.2f   (parsing and loading vs only storing the long form)\n", c.seconds/d.seconds2)
				fmt.Fprintf(&out, "(d)'s process RSS and CPU include its own untimed Load.\n")
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
	seconds2 float64 // phase b: the UNPIVOT alone; phase d: the copy
	rows     int64
	maxRSSKB int64
	cpu      float64 // user + system seconds of the whole child
}

// runEurostatBenchChild runs one phase in a child process and reads its
// timing from stdout and its peak RSS from rusage.
func runEurostatBenchChild(b *testing.B, phase, file, dir string) eurostatBenchResult {
	b.Helper()
	db := filepath.Join(dir, "bench_"+phase+".duckdb")
	os.Remove(db)
	os.Remove(db + ".wal")
	defer os.Remove(db)
	defer os.Remove(db + ".wal")
	cmd := exec.Command(os.Args[0], "-test.run=^TestEurostatBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EUROSTAT_BENCH_PHASE="+phase, "EUROSTAT_BENCH_FILE="+file, "EUROSTAT_BENCH_DB="+db)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("phase %s: %v\n%s\n%s", phase, err, stdout.String(), stderr.String())
	}
	var r eurostatBenchResult
	for _, line := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "EUROSTAT_BENCH_RESULT "); ok {
			if _, err := fmt.Sscanf(rest, "seconds=%g seconds2=%g rows=%d", &r.seconds, &r.seconds2, &r.rows); err != nil {
				b.Fatalf("phase %s: %v in %q", phase, err, line)
			}
		}
	}
	if r.seconds == 0 {
		b.Fatalf("phase %s printed no result:\n%s\n%s", phase, stdout.String(), stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKB = ru.Maxrss // kilobytes on Linux
	}
	r.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return r
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
	db, err := sql.Open("duckdb", dbPath)
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
	count := func(table string) int64 {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var sec, sec2 float64
	var rows int64
	readWide := `CREATE TABLE wide AS SELECT * FROM read_csv(?, all_varchar=true, delim='\t', header=true)`
	switch phase {
	case "a":
		start := time.Now()
		exec(readWide, file)
		sec = time.Since(start).Seconds()
		// Cells in the wide table: rows times period columns.
		var cols int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) - 1 FROM duckdb_columns() WHERE table_name = 'wide'").Scan(&cols); err != nil {
			t.Fatal(err)
		}
		rows = count("wide") * cols
	case "b":
		start := time.Now()
		exec(readWide, file)
		mid := time.Now()
		if err := createEurostatTable(ctx, conn); err != nil {
			t.Fatal(err)
		}
		dims := `"freq,unit,citizen,sex,age,applicant,geo\TIME_PERIOD"`
		exec(`INSERT INTO raw_eurostat_asylum
			SELECT 'migr_asyappctzm', ?, line, 'tsv',
			       split_part(d, ',', 1), split_part(d, ',', 2), split_part(d, ',', 3), split_part(d, ',', 4),
			       split_part(d, ',', 5), split_part(d, ',', 6), '', split_part(d, ',', 7), 'code',
			       trim(period),
			       TRY_CAST(NULLIF(split_part(trim(cell), ' ', 1), ':') AS DOUBLE),
			       trim(substr(trim(cell), length(split_part(trim(cell), ' ', 1)) + 1))
			FROM (
			    UNPIVOT (SELECT rowid + 2 AS line, `+dims+` AS d, * EXCLUDE (`+dims+`) FROM wide)
			    ON COLUMNS(* EXCLUDE (line, d)) INTO NAME period VALUE cell
			)`, file)
		end := time.Now()
		sec, sec2 = end.Sub(start).Seconds(), end.Sub(mid).Seconds()
		rows = count("raw_eurostat_asylum")
	case "c", "d":
		start := time.Now()
		st, err := NewEurostat(EurostatConfig{Paths: []string{file}}).Load(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		sec = time.Since(start).Seconds()
		rows = st.Rows()
		if n := count("raw_eurostat_asylum"); n != rows {
			t.Fatalf("table holds %d rows, Load reported %d", n, rows)
		}
		if phase == "d" {
			if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			exec("SET preserve_insertion_order = false")
			exec("CREATE TABLE long_copy AS SELECT * FROM raw_eurostat_asylum")
			sec2 = time.Since(start).Seconds()
		}
	default:
		t.Fatalf("unknown phase %q", phase)
	}
	fmt.Printf("EUROSTAT_BENCH_RESULT seconds=%g seconds2=%g rows=%d\n", sec, sec2, rows)
}

// TestEurostatWriteSynthetic writes the synthetic TSV to the path in
// EUROSTAT_SYNTH_OUT (never into the repository), with EUROSTAT_SYNTH_SERIES
// series (default 250000) and EUROSTAT_SYNTH_PERIODS months (default 200):
//
//	EUROSTAT_SYNTH_OUT=/tmp/migr_asyappctzm_synth.tsv go test ./sources -run TestEurostatWriteSynthetic
func TestEurostatWriteSynthetic(t *testing.T) {
	out := os.Getenv("EUROSTAT_SYNTH_OUT")
	if out == "" {
		t.Skip("set EUROSTAT_SYNTH_OUT to write the synthetic file")
	}
	atoi := func(name string, def int) int {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return n
		}
		return def
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSyntheticEurostatTSV(f, atoi("EUROSTAT_SYNTH_SERIES", 250_000), atoi("EUROSTAT_SYNTH_PERIODS", 200), 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
