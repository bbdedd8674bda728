package serve

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// TestAsylumFiguresOnPage: the asylum figures of run.json (UNHCR's
// decisions on persons from Russia in France) appear on the release page,
// a partial year with its months and the warning that goes with it.
func TestAsylumFiguresOnPage(t *testing.T) {
	tr := newTree(t)
	rewriteReport(t, tr.path(realID, reportName), func(m map[string]any) {
		m["asylum"] = []any{
			map[string]any{"asylum_country": "FR", "asylum_country_name": "France", "origin": "RU", "year": 2022,
				"period_label": "2022", "period_complete": true, "unhcr_applications": 3404, "unhcr_decisions_total": 2846,
				"unhcr_recognized": 770, "unhcr_complementary": 132, "unhcr_rejected": 1873, "unhcr_recognition_rate": 0.2775},
			map[string]any{"asylum_country": "FR", "asylum_country_name": "France", "origin": "RU", "year": 2023,
				"period_label": "2023 (Jan-Jun)", "period_complete": false, "unhcr_applications": 2169},
		}
	})
	s, err := New(Options{Dir: tr.dir})
	must(t, err)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	_, body := get(t, "GET", ts.URL+"/", nil)
	for _, w := range []string{`id="asylum-fr"`, "persons from RU in France", "2,846", "770", "27.75%",
		`<th scope="row">2023 (Jan-Jun)</th>`, "covered only in part"} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("page lacks %q", w)
		}
	}
	_, body = get(t, "GET", ts.URL+"/releases/"+olderID+"/", nil)
	if bytes.Contains(body, []byte(`id="asylum-`)) {
		t.Error("a release without asylum figures shows the section")
	}
}
