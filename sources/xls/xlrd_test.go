package xls

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
)

// TestMatchesXlrd reads every shipped .xls file and compares each sheet and
// each non-empty cell with what xlrd, an independent reader, makes of it.
func TestMatchesXlrd(t *testing.T) {
	books := xlrdDump(t)
	for name, path := range realFiles(t) {
		t.Run(name, func(t *testing.T) {
			want := books[name]
			if want == nil {
				t.Fatalf("xlrd dumped no %s", name)
			}
			wb, err := Open(path, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var wantNames []string
			for _, s := range want.Sheets {
				wantNames = append(wantNames, s.Name)
			}
			if fmt.Sprint(wb.SheetNames()) != fmt.Sprint(wantNames) {
				t.Fatalf("sheets %q, xlrd %q", wb.SheetNames(), wantNames)
			}
			var diffs []string
			compared := 0
			for i, ws := range want.Sheets {
				got := wb.Sheets[i]
				if got.Hidden != ws.Hidden {
					diffs = append(diffs, fmt.Sprintf("sheet %q hidden %v, xlrd %v", ws.Name, got.Hidden, ws.Hidden))
				}
				seen := map[[2]int]bool{}
				for _, c := range ws.Cells {
					row, col := int(c[0].(float64)), int(c[1].(float64))
					wantText, ok := xlrdValue(int(c[2].(float64)), c[3])
					if !ok {
						diffs = append(diffs, fmt.Sprintf("%s!%s%d: xlrd cell type %v", ws.Name, colName(col), row+1, c[2]))
						continue
					}
					if wantText == "" {
						continue // an empty string: no value in Rows either
					}
					seen[[2]int{row, col}] = true
					compared++
					gotText := cellText(got, row+1, col)
					if !sameCell(int(c[2].(float64)), gotText, wantText, c[3]) {
						diffs = append(diffs, fmt.Sprintf("%s!%s%d: %q, xlrd %q", ws.Name, colName(col), row+1, gotText, wantText))
					}
				}
				for r, cells := range got.Rows {
					for c, v := range cells {
						if v != "" && !seen[[2]int{r, c}] {
							diffs = append(diffs, fmt.Sprintf("%s!%s%d: %q, xlrd has no value", ws.Name, colName(c), r+1, v))
						}
					}
				}
			}
			sort.Strings(diffs)
			for i, d := range diffs {
				if i == 20 {
					t.Errorf("... and %d more differences", len(diffs)-20)
					break
				}
				t.Error(d)
			}
			t.Logf("%s: %d sheets, %d non-empty cells compared with xlrd, %d differences", name, len(wb.Sheets), compared, len(diffs))
		})
	}
}

// xlrdValue renders an xlrd cell value as Open renders cells.
func xlrdValue(typ int, v any) (string, bool) {
	switch typ {
	case xlrdText:
		s, ok := v.(string)
		return s, ok
	case xlrdNumber, xlrdDate:
		f, ok := v.(float64)
		return number(f), ok
	case xlrdBool:
		f, ok := v.(float64)
		return boolErr(byte(f), false), ok
	case xlrdError:
		f, ok := v.(float64)
		return boolErr(byte(f), true), ok
	}
	return "", false
}

// sameCell compares a cell: numbers as float64, everything else as text.
func sameCell(typ int, got, want string, value any) bool {
	if typ == xlrdNumber || typ == xlrdDate {
		f, err := strconv.ParseFloat(got, 64)
		return err == nil && f == value.(float64)
	}
	return got == want
}

// TestRealAnchors checks figures read by hand from the publications (see
// the shared EC_WORKBOOKS.md), with sheets and layout as published.
func TestRealAnchors(t *testing.T) {
	tests := []struct {
		file, sheet string
		row, col    int
		want        string
	}{
		{"statistiques2009.xls", "Visa Statistics 2009", 1806, 7, "546487"}, // FINLAND/ST. PETERSBURG, C applied
		{"statistiques2009.xls", "Visa Statistics 2009", 1806, 6, "542481"}, // C issued
		{"statistiques2009.xls", "Visa Statistics 2009", 1745, 6, "832"},    // POLAND/IRKUTSK
		{"statistiques2009.xls", "Visa Statistics 2009", 2535, 6, "10236628"},
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 68, 6, "111948"}, // AT/MOSCOW
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 1037, 9, "743504"},
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 1037, 6, "738505"},
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 983, 7, "126"}, // =107+19
		{"synthese_2010_with_filters_en.xls", "NON SCHENGEN", 285, 2, "TOTAL Visas issued in 2010 NON Schengen"},
		{"synthese_2013_with_filters_en.xls", "Complete data", 2, 8, "1204670"}, // Finland/ST. PETERSBURG
		{"synthese_2013_with_filters_en.xls", "Complete data", 2, 9, "1195130"},
		{"synthese_2013_with_filters_en.xls", "Complete data", 1997, 8, "17285449"},
	}
	books := map[string]*Workbook{}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s%d", tt.file, tt.sheet, colName(tt.col), tt.row), func(t *testing.T) {
			wb := books[tt.file]
			if wb == nil {
				wb = openReal(t, tt.file)
				books[tt.file] = wb
			}
			if got := cellText(sheetOf(t, wb, tt.sheet), tt.row, tt.col); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	wb := openReal(t, "synthese_2013_with_filters_en.xls")
	want := []string{"Complete data", "Totals by Schengen State", "Totals by third country "}
	if got := wb.SheetNames(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sheets %q, want %q", got, want)
	}
	if s := wb.Sheet("Complete data"); s == nil || len(s.Rows) != 1999 || s.Hidden {
		t.Errorf("Complete data: %v", s != nil)
	}
	if wb.Sheet("complete data") != nil {
		t.Error("Sheet matched a name in another case")
	}
}
