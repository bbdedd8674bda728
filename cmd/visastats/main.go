// Command visastats ingests published visa and asylum statistics into
// DuckDB, computes the figures people quote, checks them and publishes
// Parquet and Excel files.
//
// Usage:
//
//	visastats [--config config.yaml] [--log-level info] <command> [flags]
//
// Commands: run, check, runs, diff, sources, query, version. Exit codes: 0
// success (or nothing to do), 1 a failed run or query, 2 a usage error, 3
// another run in progress, or another program writing the database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	// exitLocked means another run holds the output directory or the
	// database, or another program has the database open read-write.
	exitLocked = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// globals are the flags every command accepts.
type globals struct {
	config   string
	logLevel string
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", g.config, "path of the configuration file")
	fs.StringVar(&g.logLevel, "log-level", g.logLevel, "log level: debug, info, warn or error")
}

func (g *globals) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", g.logLevel)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})), nil
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run the whole pipeline and publish a release", cmdRun},
		{"check", "build the data and run the checks without publishing", cmdCheck},
		{"runs", "list past runs: published, skipped and failed", cmdRuns},
		{"diff", "show what changed between two releases: diff [OLDER NEWER]", cmdDiff},
		{"serve", "serve the published releases over HTTP (read-only)", cmdServe},
		{"sources", "list each source's input files with sizes and hashes", cmdSources},
		{"query", "run read-only SQL on the database: query [--format table|csv] [--timeout 60s] \"SQL\"", cmdQuery},
		{"synth-eurostat", "write a synthetic Eurostat monthly TSV for benchmarks (never data)", cmdSynth},
		{"version", "print the version", cmdVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: visastats [--config config.yaml] [--log-level info] <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{config: "config.yaml", logLevel: "info"}
	fs := flag.NewFlagSet("visastats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr) }
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		usage(stderr)
		return exitUsage
	}
	name := fs.Arg(0)
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, g, fs.Args()[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "visastats: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

// parseFlags parses a command's flags (the global ones are accepted after
// the command name too) and reports a usage error as an exit code.
func parseFlags(fs *flag.FlagSet, g *globals, args []string, stderr io.Writer) (ok bool, code int) {
	fs.SetOutput(stderr)
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, exitOK
		}
		return false, exitUsage
	}
	return true, 0
}
