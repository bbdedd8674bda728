package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfiles serves the country profiles of a release: /countries/<ISO2>
// (any case) and /countries/ lead to the latest release's pages, whose
// relative links reach their charts and the release's other pages; a page
// shows, a chart's CSV downloads; only what run.json lists is served, and
// nothing through a link.
func TestProfiles(t *testing.T) {
	tr := newTree(t)
	files := map[string]string{
		"countries/index.html":                   `<!doctype html><a href="RU.html">Russian Federation</a>`,
		"countries/charts.json":                  `{"release":"` + realID + `","charts":[]}`,
		"countries/RU.html":                      `<!doctype html><a href="../index.html">release</a> <a href="RU/schengen_visas.png">PNG</a>`,
		"countries/RU/schengen_visas.png":        "\x89PNG\r\n\x1a\n",
		"countries/RU/schengen_visas.csv":        "year,Uniform visa applications\n2023,520387\n",
		"countries/RU/schengen_refusal_rate.svg": `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	}
	var listed []any
	for name, body := range files {
		writeFile(t, tr.path(realID, name), body)
		sum := sha256.Sum256([]byte(body))
		listed = append(listed, map[string]any{"name": name, "rows": -1, "size": len(body), "sha256": hex.EncodeToString(sum[:])})
	}
	// Never served: a page run.json does not list, and a listed chart that
	// is a link out of the release.
	writeFile(t, tr.path(realID, "countries/TR.html"), outsideMark)
	must(t, os.Symlink(tr.outside, tr.path(realID, "countries/RU/asylum_decisions.svg")))
	listed = append(listed, map[string]any{"name": "countries/RU/asylum_decisions.svg", "rows": -1, "size": 10})
	rewriteReport(t, tr.path(realID, reportName), func(m map[string]any) {
		m["files"] = append(m["files"].([]any), listed...)
	})
	_, ts := newTestServer(t, tr, nil)

	for _, c := range []struct{ path, location string }{
		{"/countries/", "/latest/countries/index.html"},
		{"/countries/RU", "/latest/countries/RU.html"},
		{"/countries/ru", "/latest/countries/RU.html"},
		{"/countries/RU.html", "/latest/countries/RU.html"},
	} {
		resp, _ := get(t, http.MethodGet, ts.URL+c.path, nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != c.location {
			t.Errorf("%s: %d to %q, want 302 to %s", c.path, resp.StatusCode, resp.Header.Get("Location"), c.location)
		}
	}
	for _, c := range []struct {
		path, contentType string
		attach            bool
		body              string
	}{
		{"/latest/countries/index.html", "text/html; charset=utf-8", false, files["countries/index.html"]},
		{"/latest/countries/RU.html", "text/html; charset=utf-8", false, files["countries/RU.html"]},
		{"/latest/countries/charts.json", "application/json", false, files["countries/charts.json"]},
		{"/latest/countries/RU/schengen_visas.png", "image/png", false, files["countries/RU/schengen_visas.png"]},
		{"/latest/countries/RU/schengen_refusal_rate.svg", "image/svg+xml", false, files["countries/RU/schengen_refusal_rate.svg"]},
		{"/latest/countries/RU/schengen_visas.csv", "text/csv; charset=utf-8", true, files["countries/RU/schengen_visas.csv"]},
		{"/releases/" + realID + "/countries/RU/schengen_visas.csv", "text/csv; charset=utf-8", true, files["countries/RU/schengen_visas.csv"]},
	} {
		resp, body := get(t, http.MethodGet, ts.URL+c.path, nil)
		if resp.StatusCode != http.StatusOK || string(body) != c.body || resp.Header.Get("Content-Type") != c.contentType {
			t.Errorf("%s: %d %q %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			continue
		}
		if attach := strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment"); attach != c.attach {
			t.Errorf("%s: Content-Disposition %q", c.path, resp.Header.Get("Content-Disposition"))
		}
		if resp.Header.Get("ETag") == "" {
			t.Errorf("%s: no ETag", c.path)
		}
		latest := strings.HasPrefix(c.path, "/latest/")
		if latest != (resp.Header.Get("Content-Location") == strings.Replace(c.path, "/latest/", "/releases/"+realID+"/", 1)) {
			t.Errorf("%s: Content-Location %q", c.path, resp.Header.Get("Content-Location"))
		}
	}
	for _, p := range []string{
		"/countries/TR", "/latest/countries/TR.html", "/countries/ZZ", "/latest/countries/RU/asylum_decisions.svg",
		"/latest/countries/RU/missing.png", "/latest/countries/run.json", "/releases/" + olderID + "/countries/RU.html",
		"/latest/countries/RU/schengen_visas.exe", "/countries/..",
	} {
		if resp, body := get(t, http.MethodGet, ts.URL+p, nil); resp.StatusCode < 400 || strings.Contains(string(body), outsideMark) {
			t.Errorf("%s: %d, want an error", p, resp.StatusCode)
		}
	}
	// The front page links the profiles under the latest release.
	if _, body := get(t, http.MethodGet, ts.URL+"/", nil); !strings.Contains(string(body), `<a href="/latest/countries/index.html">Country profiles</a> (1 country)`) {
		t.Error("the front page does not link the profiles")
	}
	if _, err := os.Stat(filepath.Join(tr.releases, realID, "countries")); err != nil {
		t.Fatal(err)
	}
}
