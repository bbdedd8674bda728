package sources

import (
	"context"
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
	dir := t.TempDir()
	files, err := filepath.Glob("../data/reference/*.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "iso3166_former_names.csv" {
			b = []byte(strings.Replace(string(b), "LY,Libyan Arab Jamahiriya,former_name", "LY,Libyan Arab Jamahiriya,old_name", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = NewReference(ReferenceConfig{Dir: dir}).Load(context.Background(), openTestDB(t))
	var ce *LocatedError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *LocatedError", err)
	}
	if filepath.Base(ce.File) != "iso3166_former_names.csv" || ce.Line != 5 || ce.Column != "kind" || ce.Value != "old_name" {
		t.Errorf("err = %v", err)
	}
}
