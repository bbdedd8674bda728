package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visastats/visastats/output"
	vsql "github.com/visastats/visastats/sql"
)

// TestSchemaDoc keeps docs/schema.md equal to the catalogue. The
// catalogue is checked against the Parquet files of the shipped-data
// release by TestRunRealFigures (checkSchema).
func TestSchemaDoc(t *testing.T) {
	want, err := SchemaMarkdown(refDir)
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join("..", "docs", "schema.md")
	if *update {
		if err := os.WriteFile(doc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(doc)
	if err != nil || string(got) != want {
		t.Fatalf("docs/schema.md is not up to date with sql/columns.csv (%v); run go test ./pipeline -run TestSchemaDoc -update", err)
	}
}

// checkSchema checks the catalogue against the Parquet files of the
// release in latest: every documented column is in its file with the
// documented type, nothing else is, and every published table is in
// docs/schema.md. The release's datapackage.json must pass the Data
// Package v1 checks.
func checkSchema(t *testing.T, latest string) {
	t.Helper()
	want, err := SchemaMarkdown(refDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := output.ValidateDataPackage(latest); err != nil {
		t.Errorf("datapackage.json: %v", err)
	}
	cat, err := vsql.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	db := openDuck(t)
	for _, tb := range publishedTables {
		var documented []string
		for _, c := range cat {
			if c.Table == tb.name {
				documented = append(documented, c.Name+" "+c.Type)
			}
		}
		rows, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))`, filepath.Join(latest, tb.name+".parquet"))
		if err != nil {
			t.Fatalf("%s: %v", tb.name, err)
		}
		var inFile []string
		for rows.Next() {
			var n, typ string
			if err := rows.Scan(&n, &typ); err != nil {
				t.Fatal(err)
			}
			inFile = append(inFile, n+" "+typ)
		}
		rows.Close()
		if strings.Join(inFile, ", ") != strings.Join(documented, ", ") {
			t.Errorf("%s.parquet:\n  file:       %s\n  documented: %s", tb.name, strings.Join(inFile, ", "), strings.Join(documented, ", "))
		}
		if !strings.Contains(want, "## `"+tb.name+"`") {
			t.Errorf("%s is not in docs/schema.md", tb.name)
		}
	}
}
