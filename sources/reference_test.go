package sources

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferenceLoadsISONames loads the shipped reference and checks that the
// ISO 3166 names the crosswalk derives from are there, official and
// withdrawn ones included, and that the name files are inputs of the run.
func TestReferenceLoadsISONames(t *testing.T) {
	ctx := context.Background()
	ref := NewReference(ReferenceConfig{Dir: "../data/reference"})
	ins, err := ref.Inputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range ins {
		if strings.HasPrefix(filepath.Base(in.Path), "iso3166_") {
			names = append(names, filepath.Base(in.Path))
		}
	}
	if strings.Join(names, ",") != "iso3166_former_names.csv,iso3166_names.csv" {
		t.Errorf("ISO name inputs = %v", names)
	}
	conn := openTestDB(t)
	st, err := ref.Load(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows() == 0 {
		t.Fatal("no rows")
	}
	for _, tt := range []struct{ name, kind, code string }{
		{"Iran, Islamic Republic of", "iso_name", "IR"},
		{"Socialist Republic of Viet Nam", "official_name", "VN"},
		{"Syria", "common_name", "SY"},
		{"Zaire, Republic of", "withdrawn", "CD"},
		{"Libyan Arab Jamahiriya", "former_name", "LY"},
	} {
		var code string
		err := conn.QueryRowContext(ctx, `SELECT code FROM ref_country_names WHERE name = ? AND kind = ?`, tt.name, tt.kind).Scan(&code)
		if err != nil || code != tt.code {
			t.Errorf("%s (%s) -> %q, %v; want %s", tt.name, tt.kind, code, err, tt.code)
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM ref_country_names WHERE name = 'Serbia and Montenegro'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("Serbia and Montenegro has %d rows (%v), want none: it has no single successor", n, err)
	}
}

// TestReferenceRejectsBadName edits a copy of the shipped name list: an
// unknown kind is refused with its file, line and column.
func TestReferenceRejectsBadName(t *testing.T) {
	dir := copyReferenceWith(t, "iso3166_former_names.csv", func(s string) string {
		return strings.Replace(s, "LY,Libyan Arab Jamahiriya,former_name", "LY,Libyan Arab Jamahiriya,old_name", 1)
	})
	_, err := NewReference(ReferenceConfig{Dir: dir}).Load(context.Background(), openTestDB(t))
	var ce *LocatedError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *LocatedError", err)
	}
	if filepath.Base(ce.File) != "iso3166_former_names.csv" || ce.Line != 5 || ce.Column != "kind" || ce.Value != "old_name" {
		t.Errorf("err = %v", err)
	}
}

// copyReferenceWith copies the shipped reference into a temp dir, passing
// the content of the file named edit through fn.
func copyReferenceWith(t *testing.T, edit string, fn func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../data/reference/*.csv")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == edit {
			found = true
			edited := fn(string(b))
			if edited == string(b) {
				t.Fatalf("the edit leaves %s as it is", edit)
			}
			b = []byte(edited)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("no reference file %s", edit)
	}
	return dir
}

// TestReferenceAliasNotes loads the note column of the alias files: the
// shipped files load, with and without the column (NULL notes where a file
// has none), and the reason of a decision such as CONGO is there.
func TestReferenceAliasNotes(t *testing.T) {
	ctx := context.Background()
	conn := openTestDB(t)
	if _, err := NewReference(ReferenceConfig{Dir: "../data/reference"}).Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		scheme, alias, code, noteHas string
		null                         bool
	}{
		{"ec_name", "CONGO", "CG", "BRAZZAVILLE", false},
		{"eu_code", "EL", "GR", "Greece", false},
		{"eu_code", "UK", "GB", "United Kingdom", false},
		{"iso3", "SRB", "RS", "Kosovo", false},
		{"iso3", "AFG", "AF", "", false},
		{"eurostat_code", "EL", "GR", "", true},
	} {
		var code string
		var note sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT code, note FROM ref_country_aliases WHERE scheme = ? AND alias = ?`, tt.scheme, tt.alias).Scan(&code, &note)
		if err != nil || code != tt.code || note.Valid == tt.null || !strings.Contains(note.String, tt.noteHas) {
			t.Errorf("%s,%s -> %q note %+v (%v); want %s, a note with %q (NULL: %v)", tt.scheme, tt.alias, code, note, err, tt.code, tt.noteHas, tt.null)
		}
	}
}

// TestReferenceRejectsBadAliasFile edits one line of a copy of the shipped
// alias files at a time: a column other than note after scheme,alias,code,
// and a line with more or fewer fields than its header (an unquoted comma
// in a note), are refused with the file, line and column.
func TestReferenceRejectsBadAliasFile(t *testing.T) {
	tests := []struct {
		name, file   string
		edit         func(string) string
		line         int64
		column, want string
	}{
		{"a reason column instead of note", "country_aliases_ec.csv",
			func(s string) string {
				return strings.Replace(s, "scheme,alias,code,note\n", "scheme,alias,code,reason\n", 1)
			},
			1, "4", "expected the header scheme,alias,code, optionally followed by note"},
		{"a column after note", "country_aliases_unhcr.csv",
			func(s string) string {
				return strings.Replace(s, "scheme,alias,code,note\n", "scheme,alias,code,note,source\n", 1)
			},
			1, "5", "expected the header scheme,alias,code, optionally followed by note"},
		{"an unquoted comma in a note", "country_aliases_ec.csv",
			func(s string) string {
				return strings.Replace(s, "ec_name,USA,US,\"United States of America, abbreviated\"", "ec_name,USA,US,United States of America, abbreviated", 1)
			},
			9, "", "expected 4 fields, got 5 (quote a value that holds a comma)"},
		{"a line without its note", "country_aliases_ec.csv",
			func(s string) string {
				return strings.Replace(s, "ec_name,USA,US,\"United States of America, abbreviated\"", "ec_name,USA,US", 1)
			},
			9, "", "expected 4 fields, got 3"},
		{"a note in a file without the column", "country_aliases_eurostat.csv",
			func(s string) string {
				return strings.Replace(s, "\neurostat_code,EL,GR\n", "\neurostat_code,EL,GR,the EU's code for Greece\n", 1)
			},
			59, "", "expected 3 fields, got 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyReferenceWith(t, tt.file, tt.edit)
			_, err := NewReference(ReferenceConfig{Dir: dir}).Load(context.Background(), openTestDB(t))
			var le *LocatedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LocatedError", err)
			}
			if filepath.Base(le.File) != tt.file || le.Line != tt.line || le.Column != tt.column || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want %s line %d column %q: %s", err, tt.file, tt.line, tt.column, tt.want)
			}
		})
	}
}
