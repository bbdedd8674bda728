package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visastats/visastats/output/release"
)

// TestRemoteFailureAfterLocalPublish: a run publishes locally (latest
// moves), then the upload to the one target fails (nothing listens on its
// endpoint). The error says exactly that: published locally, latest on the
// new release, not published to the target, which still names what it
// named, and that the next run resumes; it is a *RemoteError, not a failed
// run. runs/ holds one state for the release: published (no failed-run
// record beside it). The next run finds nothing changed, tries the upload
// again, fails the same way, and records one skipped run carrying the
// error, again with no failed record.
func TestRemoteFailureAfterLocalPublish(t *testing.T) {
	t.Parallel()
	cfg := copyBuild(t, tinyBuild(t))
	before := latestRelease(t, cfg)
	const target = "s3://visastats-test/releases"
	cfg.Publish = []PublishTarget{{URL: target, Endpoint: "http://127.0.0.1:1", PathStyle: true}}
	cfg.HTTP.Retries = 1
	ctx := context.Background()

	rep, err := Run(ctx, cfg, quietLog(), RunOptions{Force: true, BackoffBase: time.Millisecond})
	if err == nil {
		t.Fatal("the run succeeded with an unreachable target")
	}
	id := rep.Release
	t.Logf("the error: %v", err)
	var remote *RemoteError
	if !errors.As(err, &remote) || remote.Release != id || remote.Target != target {
		t.Errorf("error %q (%T) is not a *RemoteError for release %s and %s", err, err, id, target)
	}
	msg := err.Error()
	for _, w := range []string{"release " + id + " is published locally", "latest points to it", "not to " + target, "giving up after 2 attempts", "resumes the upload"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "nothing was published") || strings.Contains(msg, "unchanged") {
		t.Errorf("error %q says nothing was published", msg)
	}
	if got := latestRelease(t, cfg); got != id || got == before {
		t.Errorf("latest is %s, want the new release %s", got, id)
	}
	if rep.Status != release.StatusPublished {
		t.Errorf("report status %s, want published", rep.Status)
	}
	checkOneState(t, cfg, id, release.StatusPublished)

	// The next run: nothing changed, the upload is tried again.
	again, err := Run(ctx, cfg, quietLog(), RunOptions{BackoffBase: time.Millisecond})
	if !errors.As(err, &remote) || remote.Release != id {
		t.Fatalf("rerun: %v (%T), want a *RemoteError for %s", err, err, id)
	}
	if again.Status != release.StatusSkipped || again.Release != id {
		t.Errorf("rerun: status %s, release %s; want skipped on %s", again.Status, again.Release, id)
	}
	checkOneState(t, cfg, id, release.StatusPublished)
	runs, err := Runs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, r := range runs {
		if r.Status == release.StatusSkipped {
			skipped++
			if r.Release != id || !strings.Contains(r.Report.Error, target) {
				t.Errorf("skipped run of release %s, error %q; want %s and the upload's error", r.Release, r.Report.Error, id)
			}
		}
	}
	if skipped != 1 {
		t.Errorf("%d skipped runs listed, want 1", skipped)
	}
}

// checkOneState checks that runs lists release id once, with status want,
// as the latest, and that no failed-run record or running marker names it.
func checkOneState(t *testing.T, cfg Config, id, want string) {
	t.Helper()
	runs, err := Runs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range runs {
		if r.Release == id && r.Status != release.StatusSkipped {
			states = append(states, r.Status)
			if !r.Latest {
				t.Errorf("release %s (%s) is not listed as the latest", id, r.Status)
			}
		}
	}
	if len(states) != 1 || states[0] != want {
		t.Errorf("runs lists release %s as %v, want once, %s", id, states, want)
	}
	for _, status := range []string{release.StatusFailed, "running"} {
		p := filepath.Join(cfg.Output.Dir, "runs", id+"-"+status+".json")
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists beside the published release", p)
		}
	}
}
