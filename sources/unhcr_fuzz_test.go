package sources

import (
	"bytes"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"testing"
)

// unhcrHead returns the first n lines of a testdata file.
func unhcrHead(t testing.TB, path string, n int) []byte {
	t.Helper()
	lines := bytes.SplitAfter(unhcrReadFixture(t, path), []byte("\n"))
	return bytes.Join(lines[:min(n, len(lines))], nil)
}

// unhcrCheckRow checks what every row must satisfy, whatever the input.
func unhcrCheckRow(t *testing.T, file string, row []driver.Value, width int, counts ...int) {
	t.Helper()
	if len(row) != width {
		t.Fatalf("row has %d values, want %d: %v", len(row), width, row)
	}
	if row[0] != file {
		t.Fatalf("row file = %v, want %s", row[0], file)
	}
	for _, i := range counts {
		if row[i] == nil {
			continue
		}
		if f, ok := row[i].(float64); !ok || f < 0 {
			t.Fatalf("count %d = %#v, want NULL or a non-negative float64", i, row[i])
		}
	}
}

func unhcrCheckError(t *testing.T, file string, err error) {
	t.Helper()
	var re *LocatedError
	if errors.As(err, &re) && re.File != file {
		t.Fatalf("error names file %q, want %q: %v", re.File, file, err)
	}
	if !strings.Contains(err.Error(), file) {
		t.Fatalf("error does not name the file: %v", err)
	}
}

// FuzzUNHCRCSV feeds the CSV reader mutations of the real exports: the
// applications and decisions exports, the solutions export with its
// preamble (alone and before the decisions), the footnotes with their
// multi-line record, and both tables of the refugees package (one with an R
// NA in a count).
func FuzzUNHCRCSV(f *testing.F) {
	f.Add(unhcrHead(f, unhcrApplicationsCSV, 30))
	f.Add(unhcrHead(f, unhcrSolutionsCSV, 20))
	f.Add(unhcrHead(f, unhcrFootnotesCSV, 30))
	f.Add(append(unhcrHead(f, unhcrSolutionsCSV, 15), unhcrHead(f, unhcrApplicationsCSV, 10)...))
	f.Add(unhcrHead(f, unhcrDecisionsCSV, 30))
	f.Add(append(unhcrHead(f, unhcrSolutionsCSV, 15), unhcrHead(f, unhcrDecisionsCSV, 10)...))
	f.Add(unhcrHead(f, unhcrPkgApplication, 30))
	f.Add(bytes.Replace(unhcrHead(f, unhcrPkgDecisions, 30), []byte(`"C",38,0,25,0,63`), []byte(`"C",38,NA,25,0,63`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.csv"
		r, err := newUNHCRCSVReader(bytes.NewReader(data), file, Limits{})
		if err != nil {
			unhcrCheckError(t, file, err)
			return
		}
		var (
			width  int
			counts []int
		)
		switch r.table {
		case unhcrApplicationsTable:
			width, counts = 14, []int{11}
		case unhcrDecisionsTable:
			width, counts = 17, []int{12, 13, 14, 15, 16}
		case unhcrFootnotesTable:
			width = 7
		default:
			t.Fatalf("rows for table %q", r.table)
		}
		var last int64
		for {
			row, err := r.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				unhcrCheckError(t, file, err)
				return
			}
			unhcrCheckRow(t, file, row, width, counts...)
			if line := row[1].(int64); line <= last {
				t.Fatalf("line %d after line %d", line, last)
			} else {
				last = line
			}
		}
	})
}

// FuzzUNHCRJSON feeds the API page parser mutations of the real page and of
// a small page built from its first item.
func FuzzUNHCRJSON(f *testing.F) {
	page := unhcrReadFixture(f, unhcrDecisionsPage)
	f.Add(page)
	first := page[:bytes.Index(page, []byte("},{"))+1]
	f.Add(append(append([]byte(nil), first...), "]}"...))
	f.Add([]byte(`{"page":1,"maxPages":1,"items":[{"year":2023,"coo_iso":"RUS","coa":"AUS","coa_iso":"AUT","procedure_type":"G","app_type":"NA","dec_level":"-","app_pc":"P","applied":"-"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.json"
		p, err := parseUNHCRPage(data, file)
		if err != nil {
			unhcrCheckError(t, file, err)
			return
		}
		for _, row := range p.applications {
			unhcrCheckRow(t, file, row, 14, 11)
		}
		for _, row := range p.decisions {
			unhcrCheckRow(t, file, row, 17, 12, 13, 14, 15, 16)
		}
	})
}
