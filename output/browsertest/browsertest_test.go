package browsertest

import (
	"os/exec"
	"testing"
)

// TestCrashed: a process ended by a signal counts as a crash, which Run
// starts again; a process that exits with a status does not.
func TestCrashed(t *testing.T) {
	for _, c := range []struct {
		script string
		want   bool
	}{
		{"kill -SEGV $$", true},
		{"kill -ABRT $$", true},
		{"exit 1", false},
		{"exit 0", false},
	} {
		err := exec.Command("/bin/sh", "-c", c.script).Run()
		if got := crashed(err); got != c.want {
			t.Errorf("%s: crashed(%v) = %v, want %v", c.script, err, got, c.want)
		}
	}
	if crashed(exec.Command("/nonexistent/chromium").Run()) {
		t.Error("a browser that cannot start counted as a crash")
	}
}
