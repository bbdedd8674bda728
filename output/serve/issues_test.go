package serve

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// TestUpstreamIssuesOnPage: a release whose run.json lists upstream issues
// shows them on its page; the real release, which has none, shows no such
// section.
func TestUpstreamIssuesOnPage(t *testing.T) {
	tr := newTree(t)
	rewriteReport(t, tr.path(realID, reportName), func(m map[string]any) {
		m["upstream_issues"] = []any{map[string]any{
			"source": "ec_schengen_consulates", "file": "2024-schengen-visa-statistics-consulates_en.xlsx", "sha256": "ab12",
			"sheet": "Data for consulates", "cell": "M2042", "printed_total": 41617, "printed_formula": "=SUM(M277:M2036)",
			"data_rows_total": 65312, "explanation": "the footer formula =SUM(M277:M2036) sums rows 277-2036 only",
			"cross_check": "Q2042 is 9865414 = E + J + M of the data rows", "cross_check_status": "confirmed",
			"handling": "loaded data rows", "decision": "",
		}}
	})
	s, err := New(Options{Dir: tr.dir})
	must(t, err)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	_, body := get(t, "GET", ts.URL+"/", nil)
	for _, w := range []string{`id="upstream-issues"`, "2024-schengen-visa-statistics-consulates_en.xlsx", "cell M2042",
		"41,617", "=SUM(M277:M2036)", "65,312", "loaded data rows", "Cross-check (confirmed)"} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("page lacks %q", w)
		}
	}
	_, body = get(t, "GET", ts.URL+"/releases/"+olderID+"/", nil)
	if bytes.Contains(body, []byte(`id="upstream-issues"`)) {
		t.Error("a release without upstream issues shows the section")
	}
}
