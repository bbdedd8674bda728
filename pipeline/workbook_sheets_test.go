package pipeline

import (
	"strings"
	"testing"

	vsql "github.com/visastats/visastats/sql"
)

// TestWorkbookSheetsFile checks that the shipped layout of the workbooks
// loads, and that a malformed one fails with its line and column.
func TestWorkbookSheetsFile(t *testing.T) {
	if errEmbeddedTables != nil {
		t.Fatal(errEmbeddedTables)
	}
	if len(workbookSheets) == 0 {
		t.Fatal("no sheets")
	}
	cat, err := vsql.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	const head = "table,sheet,key_through,main_rows,main_note,about\n"
	for _, c := range []struct{ name, csv, want string }{
		{"unknown table", head + "nope,Nope,,,,\n", `line 2 column table: "nope" is not a published table`},
		{"twice", head + "claims,Claims,,,,\nclaims,Claims 2,,,,\n", `line 3 column table: "claims" has a sheet already on line 2`},
		{"long name", head + "claims,Claims checked against the data we hold,,,,\n", "line 2 column sheet"},
		{"forbidden character", head + "claims,Claims: checked,,,,\n", "line 2 column sheet"},
		{"same name", head + "claims,Claims,,,,\nheadlines,claims,,,,\n", `line 3 column sheet: "claims" is the sheet of claims already`},
		{"unknown key column", head + "claims,Claims,nope,,,\n", `line 2 column key_through: "nope" is not a column of claims`},
		{"selection without note", head + "claims,Claims,,year > 2020,,\n", "line 2 column main_note"},
		{"bad header", "table,sheet\nclaims,Claims\n", "line 1: header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadWorkbookSheets([]byte(c.csv), publishedTables, cat)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
