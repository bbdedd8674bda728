package sources

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClaimsRegistryErrors edits the shipped registry and expects an error
// naming the line and column of each mistake.
func TestClaimsRegistryErrors(t *testing.T) {
	orig, err := os.ReadFile("testdata/claims/claims.csv")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to, column string
	}{
		{"link that is not http", ",,,\n", ",ftp://x,,\n", "published_url"},
		{"implied figure without what it is", ",the 2022 number of visas issued by Russia to European nationals\n", ",\n", "implies"},
		{"implied figure of a count", ",percent,,,SELECT max(value)", ",visas,,,SELECT max(value)", "implied_sql"},
		{"two statements", ",,,SELECT max(value) FILTER (WHERE year = 2023)", ",,,SELECT 1; DROP TABLE claims; SELECT max(value) FILTER (WHERE year = 2023)", "implied_sql"},
		{"no unit", `,percent,"The statement`, `,,"The statement`, "unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(orig), tt.from) {
				t.Fatalf("the shipped registry has no %q", tt.from)
			}
			path := filepath.Join(t.TempDir(), "claims.csv")
			if err := os.WriteFile(path, []byte(strings.Replace(string(orig), tt.from, tt.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := NewClaims(ClaimsConfig{Path: path}).Load(context.Background(), openTestDB(t))
			var ce *LocatedError
			if !errors.As(err, &ce) || ce.Column != tt.column || ce.Line < 2 {
				t.Fatalf("err = %v, want a *LocatedError at column %s", err, tt.column)
			}
		})
	}
	if _, err := NewClaims(ClaimsConfig{Path: "testdata/claims/claims.csv"}).Load(context.Background(), openTestDB(t)); err != nil {
		t.Fatalf("shipped registry: %v", err)
	}
}
