package page

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestWriteStatic renders the static page of a real release's report: the
// release's figures, every file linked relative to the page, and no link
// that needs the server.
func TestWriteStatic(t *testing.T) {
	report, err := os.ReadFile("../serve/testdata/release/20261125T175458Z/run.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteStatic(&buf, report); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		"<h1>Release 20261125T175458Z</h1>", "520,402", "<svg",
		`<a href="observations.parquet" download>observations.parquet</a>`,
		`<a href="visastats.xlsx" download>visastats.xlsx</a>`,
		`<a href="run.json" download>run.json</a>`, `<a href="datapackage.json">schema documentation</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("static page lacks %s", want)
		}
	}
	for _, m := range regexp.MustCompile(`(href|src)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if strings.HasPrefix(m[2], "/") {
			t.Errorf("static page links %s, which needs the server", m[2])
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("static page has a script")
	}
	if strings.Contains(html, `href="index.html"`) {
		t.Error("static page lists itself")
	}
}
