package sql

import (
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
