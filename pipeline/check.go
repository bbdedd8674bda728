package pipeline

import (
	"context"
	"log/slog"

	"github.com/visastats/visastats/output/release"
)

// Check runs the fetch, load, transform and check stages of a run, in a
// private in-memory database, against the latest release where a check
// compares, without publishing anything. The error is a *CheckError when
// blocking checks fail.
func Check(ctx context.Context, cfg Config, log *slog.Logger, opts RunOptions) (*Report, error) {
	rep := &Report{Report: release.Report{Status: "checked", Versions: versions()}}
	if errEmbeddedTables != nil {
		return rep, errEmbeddedTables
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
	return rep, buildDatabase(ctx, conn, srcs, rep.Inputs, cfg.Limits, prevObs, rep, log)
}
