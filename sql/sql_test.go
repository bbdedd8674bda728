package sql

import (
	"encoding/csv"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestTransformsEmbedded(t *testing.T) {
	ts, err := Transforms()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) < 5 || ts[0].Name != "name_key" {
		t.Fatalf("transforms = %d, first %q", len(ts), ts[0].Name)
	}
	for i := 1; i < len(ts); i++ {
		if ts[i].Number <= ts[i-1].Number {
			t.Errorf("%s comes after %s", ts[i].File, ts[i-1].File)
		}
	}
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) == 0 {
		t.Fatal("no checks")
	}
}

// TestTransformLoaderRejects makes sure nothing is skipped silently.
func TestTransformLoaderRejects(t *testing.T) {
	ok := "-- Purpose: x\n-- Inputs: y\n-- Grain: z\nSELECT 1;\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"bad name", fstest.MapFS{"01_x.sql": {Data: []byte(ok)}}, "name must be NNN_name.sql"},
		{"upper case", fstest.MapFS{"010_Obs.sql": {Data: []byte(ok)}}, "name must be NNN_name.sql"},
		{"duplicate number", fstest.MapFS{"010_a.sql": {Data: []byte(ok)}, "010_b.sql": {Data: []byte(ok)}}, "already used"},
		{"empty body", fstest.MapFS{"010_a.sql": {Data: []byte("-- Purpose: nothing\n\n")}}, "no statement"},
		{"no header", fstest.MapFS{"010_a.sql": {Data: []byte("SELECT 1;")}}, "header comment"},
		{"two statements", fstest.MapFS{"010_a.sql": {Data: []byte(ok + "-- and a second one\nSELECT 2;\n")}},
			"transform 010_a.sql: the file holds 2 statements (the second starts on line 6)"},
		{"two statements without a semicolon at the end", fstest.MapFS{"010_a.sql": {Data: []byte(ok + "SELECT 2")}}, "holds 2 statements"},
		{"unclosed string", fstest.MapFS{"010_a.sql": {Data: []byte(ok + "SELECT 'a;\n")}}, "transform 010_a.sql: line 5: string opened with ' is not closed"},
		{"unclosed comment", fstest.MapFS{"010_a.sql": {Data: []byte(ok + "/* a;\n")}}, "line 5: comment /* is not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := transforms(tt.files, ".")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	got, err := transforms(fstest.MapFS{"020_b.sql": {Data: []byte(ok)}, "010_a.sql": {Data: []byte(ok)}, "README.md": {Data: []byte("x")}}, ".")
	if err != nil || len(got) != 2 || got[0].Name != "a" {
		t.Errorf("got %+v, %v", got, err)
	}
}

// TestOneStatement runs the statement count on files with one statement
// whose semicolons hide in literals, identifiers and comments, and on the
// same text with a second statement appended.
func TestOneStatement(t *testing.T) {
	header := "-- Purpose: x; y\n-- Inputs: none.\n-- Grain: one row.\n"
	bodies := map[string]string{
		"plain":                      "SELECT 1",
		"semicolon in a string":      "SELECT 'a;b' AS s, 'it''s; fine' AS t",
		"semicolon in an E string":   `SELECT E'a\';b' AS s`,
		"semicolon in an identifier": `SELECT 1 AS "a;""b"`,
		"semicolon in a comment":     "SELECT 1 -- one; two\n, 2",
		"semicolon in a block":       "SELECT /* a; /* nested; */ b; */ 1",
		"semicolon in dollar quotes": "SELECT $$a;b$$ AS s, $q$c;d$q$ AS t, 1 AS \"$x\"",
		"comment after the end":      "SELECT 1;\n-- trailing; comment\n/* and; this */\n;",
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			src := header + body + "\n"
			got, err := transforms(fstest.MapFS{"010_a.sql": {Data: []byte(src)}}, ".")
			if err != nil || len(got) != 1 || got[0].SQL != src {
				t.Fatalf("one statement: got %d transforms, %v", len(got), err)
			}
			two := header + body + ";\nSELECT 'second';\n"
			_, err = transforms(fstest.MapFS{"010_a.sql": {Data: []byte(two)}}, ".")
			if err == nil || !strings.Contains(err.Error(), "transform 010_a.sql: the file holds 2 statements") {
				t.Errorf("two statements: err = %v", err)
			}
		})
	}
}

func TestCatalogue(t *testing.T) {
	cat, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cat {
		key := c.Table + "." + c.Name
		if seen[key] {
			t.Errorf("%s documented twice", key)
		}
		seen[key] = true
	}
	for _, must := range []string{"observations.value", "schengen_host_country_year.not_issued_rate", "schengen_state_year.applications_yoy_change"} {
		if !seen[must] {
			t.Errorf("%s not documented", must)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	if got := QuoteIdent(`a"b`); got != `"a""b"` {
		t.Errorf("QuoteIdent = %s", got)
	}
}

// TestThenHeader: what follows a transform is read from its header, not
// from its name.
func TestThenHeader(t *testing.T) {
	body := "-- Purpose: x\n-- Inputs: y\n-- Grain: z\n-- Then:    next_step (why)\nSELECT 1;\n"
	got, err := transforms(fstest.MapFS{"010_a.sql": {Data: []byte(body)}, "020_b.sql": {Data: []byte("-- Purpose: x\nSELECT 1;\n")}}, ".")
	if err != nil || len(got) != 2 || got[0].Then != "next_step" || got[1].Then != "" {
		t.Fatalf("got %+v, %v", got, err)
	}
	ts, err := Transforms()
	if err != nil {
		t.Fatal(err)
	}
	var then []string
	for _, tr := range ts {
		if tr.Then != "" {
			then = append(then, tr.File+": "+tr.Then)
		}
	}
	if strings.Join(then, ";") != "028_observations.sql: previous_observations" {
		t.Errorf("transforms with a Then header: %v", then)
	}
}

// TestTables: every documented table is published and every published
// table documented, and a bad row is refused naming its line and column.
func TestTables(t *testing.T) {
	published, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, tb := range published {
		listed[tb.Name] = true
	}
	for _, c := range cat {
		if !listed[c.Table] {
			t.Errorf("%s.%s is documented but %s is not in tables.csv", c.Table, c.Name, c.Table)
		}
	}
	last := published[len(published)-1]
	if published[0].Name != "headlines" || last.Name != "observations" || last.CSV {
		t.Errorf("tables: first %s, last %+v", published[0].Name, last)
	}
	srcs, err := Sources()
	if err != nil || len(srcs) == 0 {
		t.Fatalf("sources: %v, %v", srcs, err)
	}

	header := "table,title,order_by,key,sheet,csv,country,not_on_sheet,main_sheet_where,datasets\n"
	for _, tt := range []struct{ row, want string }{
		{"headlines,Key figures,rank,rank,Headlines,yes,,,,ec\n", "line 2 column csv"},
		{"headlines,,rank,rank,Headlines,true,,,,ec\n", "line 2 column title: empty"},
		{"nowhere,Nothing,x,,,true,,,,ec\n", "line 2 column table: nowhere has no columns"},
		{"headlines,Key figures,rank,rank,Headlines,true,,,,ec\nheadlines,Key figures,rank,rank,Headlines,true,,,,ec\n", "line 3 column table: headlines is listed twice"},
	} {
		_, err := tables(fstest.MapFS{"tables.csv": {Data: []byte(header + tt.row)}}, cat)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.row, err, tt.want)
		}
	}
}

// TestEmbeddedCSVErrors breaks one line of each real embedded CSV file at a
// time and expects the error to name the file, the line and the column.
func TestEmbeddedCSVErrors(t *testing.T) {
	real := func(name string) []string {
		t.Helper()
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.SplitAfter(string(b), "\n")
	}
	// setField rewrites field col (0-based) of line n (1-based) of a real
	// file, re-encoding the line as CSV.
	setField := func(lines []string, n, col int, v string) string {
		t.Helper()
		out := slices.Clone(lines)
		rec, err := csv.NewReader(strings.NewReader(out[n-1])).Read()
		if err != nil {
			t.Fatal(err)
		}
		rec[col] = v
		var b strings.Builder
		w := csv.NewWriter(&b)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		out[n-1] = b.String()
		return strings.Join(out, "")
	}
	cat, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	tablesCSV, sourcesCSV, columnsCSV := real("tables.csv"), real("sources.csv"), real("columns.csv")
	// A line with a bare quote in its first field, and one with its last
	// field cut off.
	quoted := slices.Clone(tablesCSV)
	quoted[3] = quoted[3][:5] + `"` + quoted[3][5:]
	short := slices.Clone(tablesCSV)
	short[4] = short[4][:strings.LastIndex(short[4], ",")] + "\n"
	long := slices.Clone(tablesCSV)
	long[5] = strings.TrimSuffix(long[5], "\n") + ",extra\n"
	renamed := slices.Clone(sourcesCSV)
	renamed[0] = strings.Replace(renamed[0], "url", "link", 1)

	tests := []struct {
		name, file, data, want string
	}{
		{"csv not a boolean", "tables.csv", setField(tablesCSV, 3, 5, "yes"), `read sql/tables.csv line 3 column csv: "yes", want true or false`},
		{"empty title", "tables.csv", setField(tablesCSV, 2, 1, ""), "read sql/tables.csv line 2 column title: empty"},
		{"table listed twice", "tables.csv", setField(tablesCSV, 4, 0, "headlines"), "read sql/tables.csv line 4 column table: headlines is listed twice"},
		{"undocumented table", "tables.csv", setField(tablesCSV, 5, 0, "nowhere"), "read sql/tables.csv line 5 column table: nowhere has no columns in columns.csv"},
		{"bare quote", "tables.csv", strings.Join(quoted, ""), `read sql/tables.csv line 4 column 6: bare " in non-quoted-field`},
		{"field missing", "tables.csv", strings.Join(short, ""), "read sql/tables.csv line 5 column datasets: missing (the line has 9 fields, want 10"},
		{"field too many", "tables.csv", strings.Join(long, ""), "read sql/tables.csv line 6 column 11: one field too many (the line has 11 fields, want 10"},
		{"empty url", "sources.csv", setField(sourcesCSV, 3, 2, ""), "read sql/sources.csv line 3 column url: empty"},
		{"header", "sources.csv", strings.Join(renamed, ""), `read sql/sources.csv line 1 column 3: "link", want "url"`},
		{"unknown format", "columns.csv", setField(columnsCSV, 7, 5, "percentish"), `read sql/columns.csv line 7 column format: unknown format "percentish"`},
		{"no description", "columns.csv", setField(columnsCSV, 9, 6, ""), "read sql/columns.csv line 9 column description: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{tt.file: {Data: []byte(tt.data)}}
			var err error
			switch tt.file {
			case "tables.csv":
				_, err = tables(fsys, cat)
			case "sources.csv":
				_, err = sourceNotes(fsys)
			case "columns.csv":
				_, err = catalogue(fsys)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// The same functions accept the files as they are.
	if _, err := tables(fstest.MapFS{"tables.csv": {Data: []byte(strings.Join(tablesCSV, ""))}}, cat); err != nil {
		t.Errorf("real tables.csv: %v", err)
	}
	if _, err := sourceNotes(fstest.MapFS{"sources.csv": {Data: []byte(strings.Join(sourcesCSV, ""))}}); err != nil {
		t.Errorf("real sources.csv: %v", err)
	}
}
