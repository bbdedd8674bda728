package sources

import (
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/sources/ectest"
)

// realECRows returns rows of a shipped workbook's data sheet as parsed by
// excelize, for seeding the fuzzer.
func realECRows(t testing.TB, year string) [][]string {
	t.Helper()
	f, err := excelize.OpenFile(ectest.File(t, year), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(ECSchengenSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// parseECRows detects the layout of a data sheet, reads and reconciles it
// from its cell values alone (no formulas: a footer total that does not
// reconcile is an error).
func parseECRows(layouts *ECLayouts, file string, rows [][]string) (*ECSheet, error) {
	cands := []*ECLayout{}
	var spec ECLayoutSheet
	for _, d := range layouts.dataSheets([]string{ECSchengenSheet}) {
		cands = append(cands, d.layout)
		spec = d.spec
	}
	cols, err := layouts.detect(file, ECSchengenSheet, cands, rows)
	if err != nil {
		return nil, err
	}
	sh, err := parseECSheet(file, ECSchengenSheet, rows, cols, spec, nil)
	if err != nil {
		return nil, err
	}
	noFormulas := &ecFooter{
		formula: func(string, int, int) (string, error) { return "", nil },
		sha256:  func() (string, error) { return "fuzz", nil },
	}
	if err := sh.reconcile(file, rows, cols, noFormulas); err != nil {
		return nil, err
	}
	return sh, nil
}

func encodeRows(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, "\t")
	}
	return strings.Join(lines, "\n")
}

// FuzzECSchengenRows feeds the sheet parser the body of a data sheet (rows
// below the real header, tab-separated cells). Whatever it accepts must be
// consistent: counts non-negative and the data rows adding up to the total
// row in every column.
func FuzzECSchengenRows(f *testing.F) {
	for _, year := range []string{"2015", "2021", "2023"} {
		rows := realECRows(f, year)
		body := rows[1:]
		// a small real sheet: the first rows, then a footer that matches them
		f.Add(encodeRows(body[:12]) + "\n\n\t\tTotal worldwide\t0\t0\t0\t0\t\t0")
		f.Add(encodeRows(body[len(body)-12:]))
	}
	header := realECRows(f, "2023")[0]
	layouts := testLayouts(f)
	f.Fuzz(func(t *testing.T, body string) {
		rows := [][]string{header}
		for _, line := range strings.Split(body, "\n") {
			rows = append(rows, strings.Split(line, "\t"))
		}
		sh, err := parseECRows(layouts, "fuzz.xlsx", rows)
		if err != nil {
			return
		}
		for k := range ECIndicators() {
			var sum int64
			for _, r := range sh.Rows {
				if r.Counts[k] < 0 {
					t.Fatalf("negative count accepted in row %d", r.Row)
				}
				sum += r.Counts[k]
			}
			if sum != sh.Total.Counts[k] {
				t.Fatalf("accepted rows that do not reconcile: %d vs %d", sum, sh.Total.Counts[k])
			}
		}
	})
}
