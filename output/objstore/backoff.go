package objstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/minio/minio-go/v7"
)

// Backoff is the retry policy of object-storage requests: the fetcher's
// (pipeline/snapshot FetchConfig's Retries, BackoffBase and BackoffMax),
// passed in by the caller, since output does not import pipeline. A
// failed attempt that may succeed later (a network error, 429, 5xx,
// SlowDown) is repeated up to Retries times; before retry n the wait is
// drawn uniformly from zero to Base·2^(n-1), capped at Max ("full
// jitter").
type Backoff struct {
	Retries   int
	Base, Max time.Duration
}

// wait is the drawn wait before retry n (1-based).
func (b Backoff) wait(n int) time.Duration {
	ceiling := b.Base
	for i := 1; i < n && ceiling < b.Max; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, b.Max)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
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
