package release

import (
	"os"
	"slices"
	"testing"
)

// TestPruneFutureRelease: a release whose id comes after the current one's
// (made while the clock was ahead) is listed by Future and neither counted
// nor removed by Prune, so that keep 2 keeps the two newest real releases.
func TestPruneFutureRelease(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	const future, current = "29990101T000000Z", "20261125T174300Z"
	for _, id := range []string{future, current, "20261124T000000Z", "20261123T000000Z-2", "20261123T000000Z"} {
		must(t, os.MkdirAll(l.Release(id), 0o755))
	}
	got, err := l.Future(current)
	must(t, err)
	if !slices.Equal(got, []string{future}) {
		t.Errorf("Future(%s) = %v, want [%s]", current, got, future)
	}
	must(t, l.Prune(current, 2))
	ids, err := l.IDs()
	must(t, err)
	if want := []string{future, current, "20261124T000000Z"}; !slices.Equal(ids, want) {
		t.Errorf("after Prune(keep 2): %v, want %v", ids, want)
	}
}
