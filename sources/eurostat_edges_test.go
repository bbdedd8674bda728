package sources

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// loadEurostatEdited loads one edited copy of a real Eurostat file and
// returns the error, which must be a *LocatedError naming the copy.
func loadEurostatEdited(t *testing.T, name string, data []byte) (string, *LocatedError, error) {
	t.Helper()
	p := unhcrWriteTemp(t, name, data)
	_, err := NewEurostat(EurostatConfig{Paths: []string{p}, CodeLists: esCodeLists}).Load(context.Background(), openTestDB(t))
	if err == nil {
		t.Fatalf("%s loaded, want an error", name)
	}
	var le *LocatedError
	if !errors.As(err, &le) || le.File != p || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v (%T), want a *LocatedError naming %s", err, err, p)
	}
	return p, le, err
}

// replaceLine returns b with its line n (1-based) edited by fn.
func replaceLine(t *testing.T, b []byte, n int, fn func(string) string) []byte {
	t.Helper()
	lines := bytes.SplitAfter(b, []byte("\n"))
	if n > len(lines) {
		t.Fatalf("fewer than %d lines", n)
	}
	lines[n-1] = []byte(fn(string(lines[n-1])))
	return bytes.Join(lines, nil)
}

// TestEurostatCodeCase: a citizen or geo code spelled in two cases in one
// file ("AF" and "af", "Bulgaria" and "BULGARIA") would map to one country
// and one of the two series would be superseded by the other without a
// word. Each format refuses the second spelling, naming the line of the
// first.
func TestEurostatCodeCase(t *testing.T) {
	tsv := unhcrReadFixture(t, filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"))
	for _, tc := range []struct {
		name, file string
		data       []byte
		line       int64  // line of the error
		column     string // the dimension
		first      string // "line N" of the other spelling
		spellings  []string
	}{
		{"tsv citizen", "migr_asyappctzm_case.tsv",
			append(tsv, "M,PER,af,T,TOTAL,FRST,DE\t7 \t: \t1 \n"...), 5, "citizen", "line 2", []string{`"af"`, `"AF"`}},
		{"sdmx geo", "migr_asydcfsta_case.csv",
			replaceLine(t, unhcrHead(t, esSDMXDec, 20), 3, func(s string) string { return strings.Replace(s, ",FR,", ",fr,", 1) }),
			3, "geo", "line 2", []string{`"fr"`, `"FR"`}},
		{"appsso citizen label", "migr_asyappctza_case.csv",
			replaceLine(t, unhcrHead(t, esAppssoApps, 400), 3, func(s string) string { return strings.Replace(s, `"Bulgaria"`, `"BULGARIA"`, 1) }),
			0, "citizen", "line 3", []string{`"BULGARIA"`, `"Bulgaria"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, le, err := loadEurostatEdited(t, tc.file, tc.data)
			if !errors.Is(err, ErrEurostatCodeCase) {
				t.Errorf("err = %v, want ErrEurostatCodeCase", err)
			}
			if tc.line > 0 && le.Line != tc.line || le.Column != tc.column {
				t.Errorf("err at line %d column %q, want line %d column %q: %v", le.Line, le.Column, tc.line, tc.column, err)
			}
			for _, w := range append(tc.spellings, tc.first) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %s", err, w)
				}
			}
		})
	}
}

// TestEurostatEmptyFile: a file with its header and no data row (a query
// whose filter matched nothing, a download cut after the first line) is an
// error naming the file, in every format, not a load of no cells.
func TestEurostatEmptyFile(t *testing.T) {
	firstLine := func(p string) []byte { return unhcrHead(t, p, 1) }
	for _, tc := range []struct {
		name, file string
		data       []byte
	}{
		{"tsv", "migr_asyappctzm_empty.tsv", firstLine(filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"))},
		{"tsv without a final newline", "migr_asyappctzm_empty.tsv", bytes.TrimSuffix(firstLine(filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv")), []byte("\n"))},
		{"sdmx csv", "migr_asydcfsta_empty.csv", firstLine(esSDMXDec)},
		{"sdmx csv and blank lines", "migr_asydcfsta_empty.csv", append(firstLine(esSDMXDec), "\n\n"...)},
		{"appsso csv", "migr_asyappctza_empty.csv", firstLine(esAppssoApps)},
		{"tsv gzipped", "migr_asyappctzm_empty.tsv.gz", gzipBytes(t, firstLine(filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := loadEurostatEdited(t, tc.file, tc.data)
			if !errors.Is(err, ErrEurostatEmpty) || !strings.Contains(err.Error(), "no data rows") {
				t.Errorf("err = %v, want ErrEurostatEmpty", err)
			}
		})
	}
}

// TestEurostatCellSpaces: a TSV cell whose number has a space before it or
// inside it ("1 234", a thousands separator) is a number Eurostat does not
// write; the message speaks of the number, not of an unknown flag "1" or
// "2". The same goes for the value of the CSV formats.
func TestEurostatCellSpaces(t *testing.T) {
	tsv := unhcrReadFixture(t, filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"))
	const tsvCell = "M,PER,AF,T,TOTAL,FRST,DE\t5 p\t"
	for _, tc := range []struct {
		name, file, old, new string
		data                 []byte
		line                 int64
		column               string
		want                 string
	}{
		{"tsv leading space", "migr_asyappctzm_cellsp.tsv", tsvCell, "M,PER,AF,T,TOTAL,FRST,DE\t 5 p\t", tsv, 2, "2", "space before the number"},
		{"tsv leading space, no flag", "migr_asyappctzm_cellsp.tsv", tsvCell, "M,PER,AF,T,TOTAL,FRST,DE\t 5\t", tsv, 2, "2", "space before the number"},
		{"tsv thousands space", "migr_asyappctzm_cellsp.tsv", tsvCell, "M,PER,AF,T,TOTAL,FRST,DE\t1 234\t", tsv, 2, "2", "space inside the number"},
		{"tsv thousands space and a flag", "migr_asyappctzm_cellsp.tsv", tsvCell, "M,PER,AF,T,TOTAL,FRST,DE\t1 234 p\t", tsv, 2, "2", "space inside the number"},
		{"sdmx leading space", "migr_asydcfsta_cellsp.csv", "TOTAL,REJECTED,FR,2015,0,\n", "TOTAL,REJECTED,FR,2015, 0,\n", unhcrHead(t, esSDMXDec, 20), 2, "11", "space before or after the number"},
		{"appsso thousands space", "migr_asyappctza_cellsp.csv", `"Person","90","d"`, `"Person","1 090","d"`, unhcrHead(t, esAppssoApps, 20), 3, "8", "space inside the number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(tc.data, []byte(tc.old)) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			_, le, err := loadEurostatEdited(t, tc.file, bytes.Replace(tc.data, []byte(tc.old), []byte(tc.new), 1))
			if !errors.Is(err, ErrEurostatValue) || errors.Is(err, ErrEurostatUnknownFlag) {
				t.Errorf("err = %v, want ErrEurostatValue, not a flag", err)
			}
			if le.Line != tc.line || le.Column != tc.column || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v at line %d column %s, want line %d column %s saying %q", err, le.Line, le.Column, tc.line, tc.column, tc.want)
			}
		})
	}
	// Trailing spaces and flags after one space stay what they are.
	conn, _ := loadEurostatForTest(t, unhcrWriteTemp(t, "migr_asyappctzm_ok.tsv",
		bytes.Replace(tsv, []byte(tsvCell), []byte("M,PER,AF,T,TOTAL,FRST,DE\t5  p \t"), 1)))
	got := queryEurostatCell(t, conn, map[string]string{"citizen": "AF", "period": "2021-10"})
	if got.value != num(5) || got.flags != "p" {
		t.Errorf("cell %+v, want 5 flagged p", got)
	}
}
