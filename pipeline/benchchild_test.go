package pipeline

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/visastats/visastats/sources"
)

// benchChild runs the test named test of this binary in a child process
// with env added, so that a benchmark phase's peak RSS is its own, and
// returns what the child printed after prefix on a line of its stdout, the
// child's peak RSS (kilobytes, from rusage) and its CPU seconds.
func benchChild(b *testing.B, test, prefix string, env ...string) (result string, maxRSSKB int64, cpu float64) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	// GOGC as visastats runs by default, whatever the parent's, so that
	// the peak RSS is the program's.
	cmd.Env = append(append(os.Environ(), "GOGC=100"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s\n%s", test, env, err, stdout.String(), stderr.String())
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			result = rest
		}
	}
	if result == "" {
		b.Fatalf("%s %v printed no result:\n%s\n%s", test, env, stdout.String(), stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxRSSKB = ru.Maxrss // kilobytes on Linux
	}
	return result, maxRSSKB, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
}

// writeSyntheticEurostat writes a synthetic monthly Eurostat TSV of series x
// periods cells (sources.WriteSyntheticEurostatTSV, seed 1) at path.
func writeSyntheticEurostat(b *testing.B, path string, series, periods int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := sources.WriteSyntheticEurostatTSV(f, series, periods, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
