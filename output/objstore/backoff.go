package objstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/minio/minio-go/v7"
)

// Backoff is the retry policy of object-storage requests: a failed
// attempt that may succeed later (a network error, 429, 5xx, SlowDown) is
// repeated up to Retries times, after Wait(n) before retry n. The caller
// passes the fetcher's policy (pipeline/snapshot FetchConfig.Wait), since
// output does not import pipeline; a nil Wait retries at once.
type Backoff struct {
	Retries int
	Wait    func(n int) time.Duration
}

// wait is the wait before retry n (1-based).
func (b Backoff) wait(n int) time.Duration {
	if b.Wait == nil {
		return 0
	}
	return b.Wait(n)
}

// permanentError marks a failure that no retry can mend.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// retryable reports whether a failed request may succeed on a later
// attempt.
func retryable(err error) bool {
	var p permanentError
	if errors.As(err, &p) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.StatusCode != 0 {
		return er.StatusCode == 429 || er.StatusCode >= 500 || er.Code == "SlowDown" || er.Code == "RequestTimeout"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// Other transport failures (connection reset, EOF mid-body) carry no
	// status: worth another attempt.
	return er.StatusCode == 0
}

// Do runs fn until it succeeds, fails for good, or the retries are spent;
// op names the operation in the error.
func (b Backoff) Do(ctx context.Context, op string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%s: %w during attempt %d: %w", op, cerr, attempt, err)
		}
		if !retryable(err) {
			return fmt.Errorf("%s: %w", op, err)
		}
		if attempt > b.Retries {
			return fmt.Errorf("%s: giving up after %d attempts: %w", op, attempt, err)
		}
		t := time.NewTimer(b.wait(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: waiting to retry after attempt %d (%w): %w", op, attempt, err, ctx.Err())
		case <-t.C:
		}
	}
}
