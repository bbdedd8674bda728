package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
)

// Check builds the data in a private in-memory database and runs every
// check, against the latest release where a check compares, without
// publishing anything. The error is a *CheckError when blocking checks
// fail.
func Check(ctx context.Context, cfg Config, log *slog.Logger, opts RunOptions) (*Report, error) {
	rep := &Report{Status: "checked", Versions: versions()}
	store, err := snapshot.Open(cfg.SnapshotDir())
	if err != nil {
		return rep, fmt.Errorf("open snapshot store: %w", err)
	}
	srcCfg, fetches, err := fetchInputs(ctx, cfg, opts, store, log)
	rep.Fetches = fetches
	if err != nil {
		return rep, err
	}
	srcs := sources.All(srcCfg)
	if rep.Inputs, err = describeInputs(ctx, srcs); err != nil {
		return rep, err
	}
	prevObs := ""
	if prev := previousRelease(cfg.Output.Dir); prev != nil {
		rep.Previous = prev.Release
		prevObs = observationsPath(filepath.Join(cfg.Output.Dir, "releases", prev.Release))
	}
	db, err := openDB("", false)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	return rep, buildDatabase(ctx, conn, srcs, rep.Inputs, prevObs, rep, log)
}
