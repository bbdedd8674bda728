package serve

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestRangeCap: a request for more byte ranges than maxRanges gets 416 and
// no multipart answer; maxRanges ranges still get one.
func TestRangeCap(t *testing.T) {
	tr := newTree(t)
	_, ts := newTestServer(t, tr, nil)
	ranges := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("%d-%d", i, i)
		}
		return "bytes=" + strings.Join(parts, ",")
	}
	resp, body := get(t, "GET", ts.URL+"/latest/run.json", map[string]string{"Range": ranges(1000)})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || !strings.Contains(string(body), "too many ranges: 1000") {
		t.Errorf("1000 ranges: %d %q, want 416 saying too many ranges", resp.StatusCode, body)
	}
	resp, _ = get(t, "GET", ts.URL+"/latest/run.json", map[string]string{"Range": ranges(maxRanges)})
	if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("%d ranges: %d %s, want 206 multipart", maxRanges, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestOnlyListedFilesServed: a hard link to a release's file placed in the
// release under another name is not one of the release's files, so it is
// neither served nor listed, while the listed file still is.
func TestOnlyListedFilesServed(t *testing.T) {
	tr := newTree(t)
	must(t, os.Link(tr.path(realID, reportName), tr.path(realID, "copy.json")))
	must(t, os.Link(tr.outside, tr.path(realID, "outside.json")))
	_, ts := newTestServer(t, tr, nil)
	for _, name := range []string{"copy.json", "outside.json"} {
		if resp, body := get(t, "GET", ts.URL+"/latest/"+name, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), outsideMark) {
			t.Errorf("%s: %d, want 404", name, resp.StatusCode)
		}
	}
	if resp, _ := get(t, "GET", ts.URL+"/latest/"+reportName, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("run.json: %d, want 200", resp.StatusCode)
	}
	if _, body := get(t, "GET", ts.URL+"/", nil); strings.Contains(string(body), "copy.json") || strings.Contains(string(body), "outside.json") {
		t.Errorf("the page lists a file that is not the release's")
	}
}
