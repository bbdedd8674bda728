package output

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
)

// releaseDir writes a small release: a Parquet file, a CSV file and a
// hive-partitioned folder, from the same rows.
func releaseDir(t *testing.T) (string, DataPackage) {
	t.Helper()
	db := openDB(t)
	dir := t.TempDir()
	ctx := context.Background()
	q := `SELECT * FROM (` + hostCountryYear + `)`
	var nParquet, nPart int64
	var parts []string
	err := withArrow(t, db, q, func(r array.RecordReader) (err error) {
		nParquet, err = WriteParquet(ctx, filepath.Join(dir, "schengen_host_country_year.parquet"), r, ParquetOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The partitioned folder: one file per year, in the folders
	// PartitionFolder names.
	years, err := db.Query(`SELECT DISTINCT year FROM (` + q + `) ORDER BY year`)
	if err != nil {
		t.Fatal(err)
	}
	for years.Next() {
		var year int
		if err := years.Scan(&year); err != nil {
			t.Fatal(err)
		}
		folder, err := PartitionFolder([]string{"year"}, []string{strconv.Itoa(year)})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "by_year", folder), 0o755); err != nil {
			t.Fatal(err)
		}
		res, err := db.Exec(`COPY (SELECT * EXCLUDE (year) FROM (`+q+`) WHERE year = ? ORDER BY host_country) TO '`+
			filepath.Join(dir, "by_year", folder, PartitionFile)+`' (FORMAT parquet)`, year)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := res.RowsAffected()
		nPart += n
		parts = append(parts, folder+"/"+PartitionFile)
	}
	years.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	nCSV, err := WriteCSV(ctx, filepath.Join(dir, "schengen_host_country_year.csv"), rows)
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	var fields []Field
	for _, c := range [][2]string{{"host_country", "VARCHAR"}, {"host_country_name", "VARCHAR"}, {"year", "INTEGER"}, {"applications", "BIGINT"},
		{"not_issued_rate", "DOUBLE"}, {"applications_yoy_change", "DOUBLE"}, {"flags", "VARCHAR"}} {
		typ, err := TableSchemaType(c[1])
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, Field{Name: c[0], Type: typ, Description: "column " + c[0]})
	}
	fields[3].Unit = "applications"
	resource := func(name string, paths []string, format, media string, n int64) Resource {
		var size int64
		for _, p := range paths {
			st, err := os.Stat(filepath.Join(dir, p))
			if err != nil {
				t.Fatal(err)
			}
			size += st.Size()
		}
		profile := ProfileDataResource // Data Package v1: tabular data resources are CSV
		if format == "csv" {
			profile = ProfileTabularDataResource
		}
		r := Resource{Name: name, Path: paths, Profile: profile, Format: format, Mediatype: media,
			Bytes: size, Rows: &n, Schema: &TableSchema{Fields: append([]Field(nil), fields...), PrimaryKey: []string{"host_country", "year"}},
			Licenses: []License{{Name: "CC-BY-4.0", Path: "https://creativecommons.org/licenses/by/4.0/", Title: "Creative Commons Attribution 4.0"}}}
		if len(paths) == 1 {
			b, err := os.ReadFile(filepath.Join(dir, paths[0]))
			if err != nil {
				t.Fatal(err)
			}
			r.Hash = fmt.Sprintf("sha256:%x", sha256.Sum256(b))
		}
		return r
	}
	var partPaths []string
	for _, p := range parts {
		partPaths = append(partPaths, "by_year/"+p)
	}
	p := DataPackage{
		Profile: ProfileDataPackage,
		Name:    "visastats", Title: "visastats: Schengen visa statistics", Version: "2024.1", Created: "2024-05-01T00:00:00Z",
		Licenses: []License{{Name: "CC-BY-4.0", Path: "https://creativecommons.org/licenses/by/4.0/"}},
		Sources:  []Source{{Title: "European Commission: Visa statistics for consulates", Path: "https://home-affairs.ec.europa.eu/"}},
		Resources: []Resource{
			resource("schengen_host_country_year", []string{"schengen_host_country_year.parquet"}, "parquet", MediaTypeParquet, nParquet),
			resource("schengen_host_country_year.csv", []string{"schengen_host_country_year.csv"}, "csv", MediaTypeCSV, nCSV),
			resource("by_year", partPaths, "parquet", MediaTypeParquet, nPart),
		},
	}
	p.Resources[1].Encoding = "utf-8"
	if err := WriteDataPackage(filepath.Join(dir, DataPackageFile), p); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func TestDataPackageValid(t *testing.T) {
	dir, _ := releaseDir(t)
	if err := ValidateDataPackage(dir); err != nil {
		t.Fatal(err)
	}
	// The descriptor reads as the profile says: one path as a string,
	// several as an array; rows, units and hashes present.
	raw, err := os.ReadFile(filepath.Join(dir, DataPackageFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	res := doc["resources"].([]any)
	first, third := res[0].(map[string]any), res[2].(map[string]any)
	if doc["profile"] != ProfileDataPackage || first["profile"] != ProfileDataResource || res[1].(map[string]any)["profile"] != ProfileTabularDataResource || first["path"] != "schengen_host_country_year.parquet" || first["rows"] != 4.0 ||
		!strings.HasPrefix(first["hash"].(string), "sha256:") {
		t.Errorf("descriptor: %s", raw)
	}
	if paths, ok := third["path"].([]any); !ok || len(paths) != 2 || paths[0] != "by_year/year=2022/part-0.parquet" {
		t.Errorf("partitioned resource path %v", third["path"])
	}
	if unit := first["schema"].(map[string]any)["fields"].([]any)[3].(map[string]any)["unit"]; unit != "applications" {
		t.Errorf("unit %v", unit)
	}
}

func TestDataPackageInvalid(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(dir string, p *DataPackage)
		want   string
	}{
		{"no resources", func(_ string, p *DataPackage) { p.Resources = nil }, "resources: the package has none"},
		{"bad name", func(_ string, p *DataPackage) { p.Resources[0].Name = "Schengen Host" }, `resources[0] "Schengen Host": name must match ^[a-z0-9._-]+$`},
		{"no name", func(_ string, p *DataPackage) { p.Resources[0].Name = "" }, "resources[0]: no name"},
		{"duplicate name", func(_ string, p *DataPackage) { p.Resources[1].Name = p.Resources[0].Name }, `resources[1] "schengen_host_country_year": name used by another resource`},
		{"no path", func(_ string, p *DataPackage) { p.Resources[0].Path = nil }, "needs a path or inline data"},
		{"missing file", func(dir string, _ *DataPackage) { os.Remove(filepath.Join(dir, "schengen_host_country_year.csv")) }, `path "schengen_host_country_year.csv": no such file`},
		{"path outside", func(_ string, p *DataPackage) { p.Resources[0].Path = ResourcePath{"../x.parquet"} }, `path "../x.parquet" must be a relative POSIX path inside the package`},
		{"absolute path", func(_ string, p *DataPackage) { p.Resources[0].Path = ResourcePath{"/etc/passwd"} }, "must be a relative POSIX path"},
		{"unknown type", func(_ string, p *DataPackage) { p.Resources[0].Schema.Fields[2].Type = "int" }, `schema field "year": type "int" is not a Table Schema type`},
		{"duplicate field", func(_ string, p *DataPackage) {
			p.Resources[0].Schema.Fields = append(p.Resources[0].Schema.Fields, p.Resources[0].Schema.Fields[2])
		}, `schema field "year" appears twice`},
		{"primary key", func(_ string, p *DataPackage) { p.Resources[0].Schema.PrimaryKey = []string{"state"} }, `primaryKey names "state", which is not a field`},
		{"no schema", func(_ string, p *DataPackage) { p.Resources[1].Schema = nil }, "a tabular resource needs a schema"},
		{"parquet as a tabular data resource", func(_ string, p *DataPackage) { p.Resources[0].Profile = ProfileTabularDataResource },
			`resources[0] "schengen_host_country_year": profile "tabular-data-resource" is for CSV files in Data Package v1; a parquet file is a "data-resource"`},
		{"licence without name or path", func(_ string, p *DataPackage) { p.Licenses = []License{{Title: "Open"}} }, "package: licenses[0]: needs a name or a path"},
		{"resource licence", func(_ string, p *DataPackage) { p.Resources[2].Licenses = []License{{Title: "Open"}} }, `resources[2] "by_year": licenses[0]: needs a name or a path`},
		{"source without title", func(_ string, p *DataPackage) { p.Sources = []Source{{Path: "https://ec.europa.eu"}} }, "package: sources[0]: needs a title"},
		{"wrong rows parquet", func(_ string, p *DataPackage) { n := int64(5); p.Resources[0].Rows = &n }, "rows: declares 5, the Parquet files hold 4"},
		{"wrong rows csv", func(_ string, p *DataPackage) { n := int64(3); p.Resources[1].Rows = &n }, "rows: declares 3, the CSV files hold 4"},
		{"wrong rows partitioned", func(_ string, p *DataPackage) { n := int64(2); p.Resources[2].Rows = &n }, "rows: declares 2, the Parquet files hold 4"},
		{"wrong bytes", func(_ string, p *DataPackage) { p.Resources[0].Bytes++ }, "bytes: declares"},
		{"wrong hash", func(_ string, p *DataPackage) { p.Resources[0].Hash = "sha256:" + strings.Repeat("0", 64) }, "hash: declares sha256:000"},
		{"unknown hash", func(_ string, p *DataPackage) { p.Resources[0].Hash = "crc32:00" }, `algorithm "crc32"`},
		{"undeclared column", func(_ string, p *DataPackage) {
			p.Resources[0].Schema.Fields = p.Resources[0].Schema.Fields[1:]
			p.Resources[0].Schema.PrimaryKey = nil
		}, `has column "host_country", which the schema does not declare`},
		{"missing column", func(_ string, p *DataPackage) {
			p.Resources[0].Schema.Fields = append(p.Resources[0].Schema.Fields, Field{Name: "state", Type: "string"})
		}, `field "state" is neither a column`},
		{"csv header", func(_ string, p *DataPackage) {
			p.Resources[1].Schema.Fields[0].Name = "country"
			p.Resources[1].Schema.PrimaryKey = nil
		}, `header ["host_country" "host_country_name"`},
		{"changed file", func(dir string, _ *DataPackage) {
			os.WriteFile(filepath.Join(dir, "schengen_host_country_year.csv"), []byte("host_country\nRU\n"), 0o644)
		}, "rows: declares 4, the CSV files hold 1"},
		{"bad profile", func(_ string, p *DataPackage) { p.Profile = "my-package" }, `profile "my-package"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, p := releaseDir(t)
			c.change(dir, &p)
			if err := WriteDataPackage(filepath.Join(dir, DataPackageFile), p); err != nil {
				t.Fatal(err)
			}
			err := ValidateDataPackage(dir)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("err %v, want a *ValidationError", err)
			}
			// A changed file breaks bytes, hash and rows at once; every
			// other mistake is one problem.
			if c.name == "changed file" && strings.Contains(err.Error(), c.want) {
				return
			}
			if len(verr.Problems) != 1 || !strings.Contains(verr.Problems[0], c.want) {
				t.Errorf("problems:\n%s\nwant one, containing %q", err, c.want)
			}
		})
	}
}

func TestDataPackageUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := ValidateDataPackage(dir); err == nil || !strings.Contains(err.Error(), DataPackageFile) {
		t.Errorf("err %v, want the missing descriptor named", err)
	}
	os.WriteFile(filepath.Join(dir, DataPackageFile), []byte(`{"resources": [{"name": "x", "path": 3}]}`), 0o644)
	if err := ValidateDataPackage(dir); err == nil || !strings.Contains(err.Error(), "path must be a string or an array of strings") {
		t.Errorf("err %v", err)
	}
}

func TestTableSchemaType(t *testing.T) {
	for in, want := range map[string]string{
		"VARCHAR": "string", "INTEGER": "integer", "BIGINT": "integer", "DOUBLE": "number", "DECIMAL(18,3)": "number",
		"DATE": "date", "TIMESTAMP": "datetime", "TIMESTAMPTZ": "datetime", "BOOLEAN": "boolean", "varchar": "string",
	} {
		if got, err := TableSchemaType(in); err != nil || got != want {
			t.Errorf("TableSchemaType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := TableSchemaType("STRUCT(a INTEGER)"); err == nil {
		t.Error("STRUCT mapped to a Table Schema type")
	}
}
