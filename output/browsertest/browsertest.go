// Package browsertest runs Debian's headless Chromium for the tests that
// look at a published page as a reader's browser does. Only tests import it.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Path is Debian's headless-capable browser (package chromium).
const Path = "/usr/bin/chromium"

// attempts is how many times Run starts a browser that crashes.
const attempts = 3

// Require skips t when Chromium is not installed.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Skip("chromium not installed: apt-get install chromium (.ci/run installs it)")
	}
}

// Run runs headless Chromium once with extra flags (the URL among them)
// and returns its standard output. Each start gets a fresh profile and
// HOME, so no cache or lock is shared with another test or the user's own
// browser. A browser that dies by a signal (Chromium itself crashing, seen
// on busy machines) is started again, up to three times in all, each crash
// logged with the end of its standard error; any other failure, or a third
// crash, fails t with that text.
func Run(ctx context.Context, t testing.TB, extra ...string) []byte {
	t.Helper()
	stdout, _ := RunLog(ctx, t, extra...)
	return stdout
}

// RunLog is Run that also returns the browser's standard error, where
// Chromium started with --enable-logging=stderr writes what pages print
// to their console (lines with "CONSOLE"), errors included.
func RunLog(ctx context.Context, t testing.TB, extra ...string) (stdout, stderr []byte) {
	t.Helper()
	Require(t)
	for attempt := 1; ; attempt++ {
		profile := t.TempDir()
		args := append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + profile,
		}, extra...)
		cmd := exec.CommandContext(ctx, Path, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Env = append(os.Environ(), "HOME="+profile)
		err := cmd.Run()
		if err == nil {
			return stdout.Bytes(), stderr.Bytes()
		}
		if crashed(err) && attempt < attempts && ctx.Err() == nil {
			t.Logf("chromium %s crashed (%v), attempt %d of %d; its last output:\n%s",
				strings.Join(extra, " "), err, attempt, attempts, tail(stderr.String(), 1500))
			continue
		}
		t.Fatalf("chromium %s: %v (attempt %d)\n%s", strings.Join(extra, " "), err, attempt, tail(stderr.String(), 2000))
	}
}

// crashed reports whether the browser was ended by a signal it did not
// get from Run's context (a timeout kills it too, and is not retried).
func crashed(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
