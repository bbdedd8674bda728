package pipeline

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/visastats/visastats/output"
)

// progressLogEvery is how often a download that is not shown on a
// terminal is logged while it runs.
const progressLogEvery = 10 * time.Second

// downloadProgress returns the progress reporter of the downloads of a
// run. On a terminal (term set) each download shows one line that is
// rewritten as bytes arrive: what, how much of how much, and the rate;
// elsewhere (cron, systemd) a long download logs a line every
// progressLogEvery, so that a log shows a transfer that is slow rather
// than stuck. now is the clock.
func downloadProgress(term io.Writer, log *slog.Logger, now func() time.Time) func(source, name string) func(read, total int64, done bool) {
	var mu sync.Mutex // one line on the terminal at a time
	return func(source, name string) func(read, total int64, done bool) {
		start := now()
		lastLog := start
		return func(read, total int64, done bool) {
			elapsed := now().Sub(start)
			rate := ""
			if s := elapsed.Seconds(); s > 0.5 {
				rate = output.HumanBytes(int64(float64(read)/s)) + "/s"
			}
			size := output.HumanBytes(read)
			if total > 0 {
				size += " of " + output.HumanBytes(total)
			}
			if term != nil {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(term, "\r\x1b[K  %s/%s: %s %s", source, name, size, rate)
				if done {
					fmt.Fprintln(term)
				}
				return
			}
			if !done && now().Sub(lastLog) >= progressLogEvery {
				lastLog = now()
				log.Info("downloading", "source", source, "file", name, "bytes", read, "total", total, "rate", rate, "duration", elapsed.Round(time.Second))
			}
		}
	}
}
