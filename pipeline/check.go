package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/visastats/visastats/output/release"
)

// Check runs the fetch, load, transform and check stages of a run, in a
// private scratch database, against the latest release where a check
// compares, without publishing anything. The error is a *CheckError when
// blocking checks fail.
//
// Like a run, it holds the locks of the output directory and the
// database (it writes the snapshot store) and fails with ErrLocked while
// a run holds them. DuckDB works within duckdb.memory_limit and threads,
// on a scratch database file that it spills beside, in the folder
// <database>.check.tmp, removed when it returns (an in-memory database
// keeps its tables in memory whatever the limit).
func Check(ctx context.Context, cfg Config, log *slog.Logger, opts RunOptions) (*Report, error) {
	rep := &Report{Report: release.Report{Status: "checked", Versions: versions()}}
	if errEmbeddedTables != nil {
		return rep, errEmbeddedTables
	}
	lock, err := lockRun(cfg.Output.Dir, cfg.Database)
	if err != nil {
		return rep, err
	}
	defer lock.release()
	database, err := resolveDatabase(cfg.Database)
	if err != nil {
		return rep, err
	}
	srcs, _, err := fetchSources(ctx, cfg, opts, rep, log)
	if err != nil {
		return rep, err
	}
	if rep.Inputs, err = describeInputs(ctx, srcs); err != nil {
		return rep, err
	}
	layout := release.Layout{Dir: cfg.Output.Dir}
	prevObs := previousObservations(layout, previousRelease(layout, rep))
	spill := tempDir(database + ".check")
	os.RemoveAll(spill) // what a killed check left
	if err := os.MkdirAll(spill, 0o755); err != nil {
		return rep, fmt.Errorf("check: %w", err)
	}
	defer os.RemoveAll(spill)
	db, err := openScratchDB(cfg.DuckDB, spill)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	return rep, buildDatabase(ctx, conn, srcs, rep.Inputs, cfg.Limits, prevObs, rep, log)
}
