package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/pipeline"
	"github.com/visastats/visastats/sources"
)

func cmdVersion(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	fmt.Fprintf(stdout, "visastats %s\n", pipeline.Version)
	return exitOK
}

// setup makes the logger and loads the configuration for a command that
// needs both; a code other than exitOK has been explained on stderr.
func (g *globals) setup(stderr io.Writer) (pipeline.Config, *slog.Logger, int) {
	log, err := g.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "visastats: %v\n", err)
		return pipeline.Config{}, nil, exitUsage
	}
	cfg, ok := loadConfig(g, stderr)
	if !ok {
		return cfg, nil, exitFailed
	}
	return cfg, log, exitOK
}

func loadConfig(g *globals, stderr io.Writer) (pipeline.Config, bool) {
	cfg, err := pipeline.LoadConfig(g.config)
	if err != nil {
		fmt.Fprintf(stderr, "visastats: %v\n", err)
		return cfg, false
	}
	return cfg, true
}

func cmdRun(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	force := fs.Bool("force", false, "rebuild even when nothing changed since the latest release")
	offline := fs.Bool("offline", false, "use the last snapshot of every fetched input instead of the network")
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "visastats run: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	cfg, log, code := g.setup(stderr)
	if code != exitOK {
		return code
	}
	rep, err := pipeline.Run(ctx, cfg, log, pipeline.RunOptions{Force: *force, Offline: *offline, Terminal: terminal(stderr)})
	if err != nil {
		if errors.Is(err, pipeline.ErrLocked) || errors.Is(err, pipeline.ErrDatabaseInUse) {
			fmt.Fprintf(stderr, "visastats: %v\n", err)
			return exitLocked
		}
		var remote *pipeline.RemoteError
		if errors.As(err, &remote) {
			// The release is published locally; only an upload failed.
			if rep.Status == release.StatusPublished {
				printSummary(stdout, rep)
			}
			fmt.Fprintf(stderr, "visastats: %v\n", err)
			return exitFailed
		}
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "visastats: run interrupted; nothing was published and the previous release is unchanged")
		} else {
			fmt.Fprintf(stderr, "visastats: run failed; nothing was published and the previous release is unchanged:\n  %v\n", err)
		}
		return exitFailed
	}
	if rep.Status == release.StatusSkipped {
		fmt.Fprintf(stdout, "Nothing changed since release %s (inputs, code and configuration are the same); use --force to rebuild.\n", rep.Release)
		return exitOK
	}
	printSummary(stdout, rep)
	return exitOK
}

func printSummary(w io.Writer, rep *pipeline.Report) {
	fmt.Fprintf(w, "Published release %s in %s\n", rep.Release, rep.Latest)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	parts := map[string][2]int64{} // partitioned folders: files, bytes
	for _, f := range rep.Files {
		if dir, _, ok := strings.Cut(f.Name, string(filepath.Separator)); ok {
			p := parts[dir]
			parts[dir] = [2]int64{p[0] + 1, p[1] + f.Size}
			continue
		}
		rows := output.Thousands(f.Rows) + " rows"
		if f.Rows < 0 {
			rows = "" // not a table (CITATION.cff)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", filepath.Join(rep.Latest, f.Name), rows, output.HumanBytes(f.Size))
	}
	for dir, p := range parts {
		fmt.Fprintf(tw, "  %s/\t%s files\t%s\t\n", filepath.Join(rep.Latest, dir), output.Thousands(p[0]), output.HumanBytes(p[1]))
	}
	tw.Flush()
	if len(rep.Headlines) == 0 {
		return
	}
	fmt.Fprintf(w, "\nVisa applications lodged at Schengen consulates located in %s (uniform visas, I; ATV + uniform, D+I):\n", rep.Headlines[0].Name)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  year\tuniform\tchange\tATV + uniform\tchange\tEC refusal rate\t")
	for _, h := range rep.Headlines {
		all, uniform := "-", "-"
		if h.Applications != nil {
			all = output.Thousands(*h.Applications)
		}
		if h.UniformApplied != nil {
			uniform = output.Thousands(*h.UniformApplied)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t\n", h.Year, uniform, output.Percent(h.UniformChange, true),
			all, output.Percent(h.Change, true), output.Percent(h.NotIssuedRate, false))
	}
	tw.Flush()
	printAsylum(w, rep.Asylum)
}

// printAsylum prints UNHCR's asylum applications and decisions for persons
// from the headline country, per country of asylum and year, partial years
// labelled as such.
func printAsylum(w io.Writer, years []release.AsylumYear) {
	count := func(v *int64) string {
		if v == nil {
			return "-"
		}
		return output.Thousands(*v)
	}
	place := ""
	var tw *tabwriter.Writer
	for _, a := range years {
		if a.AsylumName != place {
			if tw != nil {
				tw.Flush()
			}
			place = a.AsylumName
			fmt.Fprintf(w, "\nAsylum, persons from %s in %s (UNHCR, all procedure stages; rate = recognised / (recognised + complementary + rejected)):\n", a.Origin, place)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "  year\tapplications\tdecisions\trecognised\trecognition rate\t")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t\n", a.Period, count(a.Applications), count(a.Decisions), count(a.Recognized), output.Percent(a.RecognitionRate, false))
	}
	if tw != nil {
		tw.Flush()
	}
}

func cmdSources(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sources", flag.ContinueOnError)
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	cfg, ok := loadConfig(g, stderr)
	if !ok {
		return exitFailed
	}
	inputs, err := pipeline.Inputs(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "visastats sources: %v\n", err)
		return exitFailed
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tYEAR\tSIZE\tSHA256\tPATH")
	for _, in := range inputs {
		year := ""
		if in.Year != 0 {
			year = strconv.Itoa(in.Year)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.Source, year, output.Thousands(in.Size), in.SHA256, in.Path)
	}
	tw.Flush()
	return exitOK
}

// tableRows is how many rows `query --format table` shows: the table is
// aligned, so its rows are held until the end.
const tableRows = 10_000

// errTableFull stops a query whose table is full.
var errTableFull = errors.New("table full")

func cmdQuery(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	format := fs.String("format", "table", "output format: table (the first 10,000 rows) or csv (every row, streamed)")
	timeout := fs.Duration("timeout", 0, "stop the query after this long (default duckdb.query_timeout, 60s)")
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: visastats query [--format table|csv] [--timeout 60s] \"SELECT ...\"")
		return exitUsage
	}
	if *format != "table" && *format != "csv" {
		fmt.Fprintf(stderr, "visastats query: --format must be table or csv, not %q\n", *format)
		return exitUsage
	}
	if *timeout < 0 {
		fmt.Fprintf(stderr, "visastats query: --timeout must be positive, not %s\n", *timeout)
		return exitUsage
	}
	cfg, ok := loadConfig(g, stderr)
	if !ok {
		return exitFailed
	}
	limit := *timeout
	if limit == 0 {
		limit = cfg.DuckDB.QueryTimeoutOrDefault()
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// csv is written row by row as the rows come; the table is aligned, so
	// tabwriter holds it until the end, and it holds at most tableRows.
	var header func([]string) error
	var row func([]any) error
	var flush func() error
	if *format == "csv" {
		cw := csv.NewWriter(stdout)
		header = cw.Write
		row = func(r []any) error { return cw.Write(formatRow(r, false)) }
		flush = func() error { cw.Flush(); return cw.Error() }
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		header = func(cols []string) error {
			_, err := fmt.Fprintln(tw, strings.Join(cols, "\t"))
			return err
		}
		shown := 0
		row = func(r []any) error {
			if shown == tableRows {
				return errTableFull
			}
			shown++
			_, err := fmt.Fprintln(tw, strings.Join(formatRow(r, true), "\t"))
			return err
		}
		flush = tw.Flush
	}
	n, err := pipeline.Query(ctx, cfg, fs.Arg(0), header, row)
	full := errors.Is(err, errTableFull)
	if full {
		err = nil
	}
	if ferr := flush(); err == nil {
		err = ferr
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "visastats query: stopped after %s, the time limit (--timeout, or duckdb.query_timeout in the configuration)\n", limit)
		return exitFailed
	case err != nil:
		fmt.Fprintf(stderr, "visastats query: %v\n", err)
		return exitFailed
	case full:
		fmt.Fprintf(stdout, "(the first %s rows; the result has more: use --format csv for every row)\n", output.Thousands(tableRows))
	case *format != "csv":
		fmt.Fprintf(stdout, "(%d rows)\n", n)
	}
	return exitOK
}

func formatRow(r []any, human bool) []string {
	out := make([]string, len(r))
	for i, v := range r {
		switch x := v.(type) {
		case nil:
			if human {
				out[i] = "NULL"
			}
		case float64:
			out[i] = strconv.FormatFloat(x, 'f', -1, 64)
		case time.Time:
			out[i] = x.Format(time.RFC3339)
		case []byte:
			out[i] = string(x)
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return out
}

func cmdCheck(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	offline := fs.Bool("offline", false, "use the last snapshot of every fetched input instead of the network")
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	cfg, log, code := g.setup(stderr)
	if code != exitOK {
		return code
	}
	rep, err := pipeline.Check(ctx, cfg, log, pipeline.RunOptions{Offline: *offline})
	if errors.Is(err, pipeline.ErrLocked) {
		fmt.Fprintf(stderr, "visastats check: %v\n", err)
		return exitLocked
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tKIND\tRESULT\tFIRST PROBLEM")
	for _, c := range rep.Checks {
		kind, result, first := "warning", "passed", ""
		if c.Blocking {
			kind = "blocking"
		}
		if !c.Passed() {
			result = fmt.Sprintf("%d problems", c.Problems)
			first = c.Sample[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, kind, result, first)
	}
	tw.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "visastats check: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func cmdRuns(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	cfg, ok := loadConfig(g, stderr)
	if !ok {
		return exitFailed
	}
	runs, err := pipeline.Runs(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "visastats runs: %v\n", err)
		return exitFailed
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tSTATUS\tSTARTED (UTC)\tDURATION\tOBSERVATIONS\tCHANGES (new/removed/revised)\tCHECKS FAILED\tERROR")
	for _, r := range runs {
		rep := r.Report
		status := r.Status
		if r.Latest {
			status += " (latest)"
		}
		changes := "-"
		if rep.Changes != nil && rep.Changes.Previous != "" {
			changes = fmt.Sprintf("%d/%d/%d", rep.Changes.New, rep.Changes.Removed, rep.Changes.Revised)
		}
		failed := 0
		for _, c := range rep.Checks {
			if !c.Passed() {
				failed++
			}
		}
		msg := rep.Error
		if len(msg) > 80 {
			msg = msg[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", rep.Release, status, rep.GeneratedAt.Format("2006-01-02 15:04:05"),
			rep.Duration.Round(time.Millisecond), output.Thousands(rep.Tables["observations"]), changes, failed, msg)
	}
	tw.Flush()
	return exitOK
}

func cmdDiff(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	limit := fs.Int("limit", 50, "changes to list")
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	var a, b string
	switch fs.NArg() {
	case 0:
	case 2:
		a, b = fs.Arg(0), fs.Arg(1)
	default:
		fmt.Fprintln(stderr, "usage: visastats diff [--limit N] [OLDER_RELEASE NEWER_RELEASE]")
		return exitUsage
	}
	cfg, ok := loadConfig(g, stderr)
	if !ok {
		return exitFailed
	}
	sum, revs, err := pipeline.Diff(ctx, cfg, a, b, *limit)
	switch {
	case errors.Is(err, pipeline.ErrNothingToCompare):
		// Not a failure: a first release has nothing before it.
		fmt.Fprintf(stdout, "Nothing to compare: %v.\n", strings.TrimPrefix(err.Error(), pipeline.ErrNothingToCompare.Error()+": "))
		return exitOK
	case errors.Is(err, pipeline.ErrNotReleaseID):
		fmt.Fprintf(stderr, "visastats diff: %v\n", err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "visastats diff: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "Against release %s: %s new, %s removed, %s revised observations.\n",
		sum.Previous, output.Thousands(sum.New), output.Thousands(sum.Removed), output.Thousands(sum.Revised))
	for _, r := range revs {
		fmt.Fprintf(stdout, "  %s\n", r.Describe())
	}
	return exitOK
}

func cmdSynth(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("synth-eurostat", flag.ContinueOnError)
	series := fs.Int("series", 250000, "number of series (rows)")
	periods := fs.Int("periods", 200, "number of monthly periods (columns)")
	seed := fs.Int64("seed", 1, "random seed; the same arguments give the same bytes")
	out := fs.String("out", "", "file to write (required); never data: for benchmarks and tests only")
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	if *out == "" || fs.NArg() > 0 || *series <= 0 || *periods <= 0 {
		fmt.Fprintln(stderr, "usage: visastats synth-eurostat --out FILE [--series 250000] [--periods 200] [--seed 1]")
		return exitUsage
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(stderr, "visastats synth-eurostat: %v\n", err)
		return exitFailed
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = sources.WriteSyntheticEurostatTSV(w, *series, *periods, *seed)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "visastats synth-eurostat: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "wrote %s: %s series x %d months = %s cells of synthetic migr_asyappctzm TSV (not data)\n",
		*out, output.Thousands(int64(*series)), *periods, output.Thousands(int64(*series)*int64(*periods)))
	return exitOK
}

// terminal returns w when it is a terminal (downloads then show their
// progress on it), nil otherwise (a cron job's log gets lines instead).
func terminal(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return w
}
