package sources

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestUNHCRDuplicateRows: a row that an export repeats (a copy and paste,
// two exports concatenated) would be summed with itself into the
// observations. A repeated row, or a row with the same codes and other
// figures, is an error naming both lines, in every UNHCR format.
func TestUNHCRDuplicateRows(t *testing.T) {
	export := unhcrReadFixture(t, unhcrApplicationsCSV)
	const row4 = "2010,Albania,Belgium,ALB,BEL,G,N,RA,P,58\n"
	pkg := unhcrHead(t, unhcrPkgDecisions, 40)
	pkgRow2 := string(bytes.SplitAfter(pkg, []byte("\n"))[1])
	page := unhcrReadFixture(t, unhcrDecisionsPage)
	item1 := page[bytes.Index(page, []byte(`{"year":2000`)):]
	item1 = item1[:bytes.IndexByte(item1, '}')+1]
	for _, tc := range []struct {
		name, file string
		data       []byte
		line       int64
		want       string
	}{
		{"export row repeated", "rdf_asylum-applications.csv",
			bytes.Replace(export, []byte(row4), []byte(row4+row4), 1), 5, "repeats line 4"},
		{"export row repeated further down", "rdf_asylum-applications.csv",
			append(bytes.Clone(export), row4...), int64(bytes.Count(export, []byte("\n")) + 1), "repeats line 4"},
		{"export key repeated with another figure", "rdf_asylum-applications.csv",
			bytes.Replace(export, []byte(row4), []byte(row4+strings.Replace(row4, ",58", ",59", 1)), 1), 5, "same year and codes as line 4"},
		{"refugees package row repeated", "refugees_asylum_decisions.csv.gz",
			gzipBytes(t, append(bytes.Clone(pkg), pkgRow2...)), 41, "repeats line 2"},
		{"api item repeated", "page.json",
			bytes.Replace(page, item1, append(append(bytes.Clone(item1), ','), item1...), 1), 2, "repeats item 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unhcrWriteTemp(t, tc.file, tc.data)
			_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(context.Background(), openTestDB(t))
			var le *LocatedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v (%T), want a *LocatedError", err, err)
			}
			if !errors.Is(err, ErrUNHCRDuplicate) {
				t.Errorf("err = %v, want ErrUNHCRDuplicate", err)
			}
			if le.File != p || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v at %s line %d, want %s line %d saying %q", err, le.File, le.Line, p, tc.line, tc.want)
			}
		})
	}
}

// TestUNHCRCodeCase: a code spelled in two cases in one file ("ALB" and
// "alb") would be matched to one country by the SQL and its rows summed as
// if they were distinct. The second spelling is an error naming the line
// of the first.
func TestUNHCRCodeCase(t *testing.T) {
	export := unhcrReadFixture(t, unhcrApplicationsCSV)
	pkg := unhcrHead(t, unhcrPkgDecisions, 40)
	page := unhcrReadFixture(t, unhcrDecisionsPage)
	for _, tc := range []struct {
		name, file string
		data       []byte
		old, new   string
		line       int64
		column     string
		want       []string
	}{
		{"export origin iso", "rdf_asylum-applications.csv", export,
			"2010,Albania,Belgium,ALB,BEL,G,N,RA,P,58\n", "2010,Albania,Belgium,alb,BEL,G,N,RA,P,58\n",
			4, "Country of origin (ISO)", []string{`"alb"`, `"ALB"`, "line 2"}},
		{"export stage", "rdf_asylum-applications.csv", export,
			"2010,Albania,Belgium,ALB,BEL,G,N,RA,P,58\n", "2010,Albania,Belgium,ALB,BEL,G,N,fi,P,58\n",
			4, "Stage of procedure", []string{`"fi"`, `"FI"`, "line 3"}},
		{"refugees package asylum code", "refugees_asylum_decisions.csv.gz", pkg,
			`2000,"Albania","ALB","ALB","Australia","AUL","AUS"`, `2000,"Albania","ALB","ALB","Australia","aul","AUS"`,
			3, "coa", []string{`"aul"`, `"AUL"`, "line 2"}},
		{"api origin iso", "page.json", page,
			`"coo_iso":"DZA","coa_id":12,`, `"coo_iso":"dza","coa_id":12,`,
			3, "coo_iso", []string{`"dza"`, `"DZA"`, "item 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(tc.data, []byte(tc.old)) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			data := bytes.Replace(tc.data, []byte(tc.old), []byte(tc.new), 1)
			if strings.HasSuffix(tc.file, ".gz") {
				data = gzipBytes(t, data)
			}
			p := unhcrWriteTemp(t, tc.file, data)
			_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(context.Background(), openTestDB(t))
			var le *LocatedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v (%T), want a *LocatedError", err, err)
			}
			if !errors.Is(err, ErrUNHCRCodeCase) {
				t.Errorf("err = %v, want ErrUNHCRCodeCase", err)
			}
			if le.File != p || le.Line != tc.line || le.Column != tc.column {
				t.Errorf("err = %v at %s line %d column %q, want %s line %d column %q", err, le.File, le.Line, le.Column, p, tc.line, tc.column)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %s", err, w)
				}
			}
		})
	}
}
