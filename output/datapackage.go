package output

import (
	"bufio"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/apache/arrow/go/v17/parquet/file"
)

// DataPackageFile is the name of a Data Package descriptor.
const DataPackageFile = "datapackage.json"

// Profiles and media types of the Data Package v1 specifications.
const (
	ProfileTabularDataPackage  = "tabular-data-package"
	ProfileTabularDataResource = "tabular-data-resource"
	// ProfileDataResource is a resource of any format; Data Package v1
	// restricts tabular-data-resource to CSV, so Parquet files, workbooks
	// and JSON are data resources (a Parquet one still has its schema).
	ProfileDataResource = "data-resource"
	// ProfileDataPackage is a package whose resources are not all
	// tabular data resources.
	ProfileDataPackage = "data-package"
	MediaTypeParquet   = "application/vnd.apache.parquet"
	MediaTypeCSV       = "text/csv"
)

// DataPackage is a Frictionless Data Package v1 descriptor
// (https://specs.frictionlessdata.io/data-package/): what a release's
// files are, their schemas, units, sources and licences.
type DataPackage struct {
	Profile     string     `json:"profile"`
	Name        string     `json:"name"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Version     string     `json:"version,omitempty"`
	Created     string     `json:"created,omitempty"` // RFC 3339
	Licenses    []License  `json:"licenses,omitempty"`
	Sources     []Source   `json:"sources,omitempty"`
	Resources   []Resource `json:"resources"`
}

// License is a licence of a package or a resource; it needs a name (an
// Open Definition id such as "CC-BY-4.0") or a path (a URL).
type License struct {
	Name  string `json:"name,omitempty"`
	Path  string `json:"path,omitempty"`
	Title string `json:"title,omitempty"`
}

// Source is where data come from; it needs a title.
type Source struct {
	Title string `json:"title"`
	Path  string `json:"path,omitempty"`
	Email string `json:"email,omitempty"`
}

// Resource is one published table: a file, or several files read as one
// (a hive-partitioned folder). Rows, a visastats property, is the number of
// rows of the table; Bytes and Hash cover the files in Path order, as if
// concatenated.
type Resource struct {
	Name        string          `json:"name"`
	Path        ResourcePath    `json:"path,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Profile     string          `json:"profile,omitempty"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	Format      string          `json:"format,omitempty"`
	Mediatype   string          `json:"mediatype,omitempty"`
	Encoding    string          `json:"encoding,omitempty"`
	Bytes       int64           `json:"bytes,omitempty"`
	Hash        string          `json:"hash,omitempty"` // "sha256:<hex>"
	Rows        *int64          `json:"rows,omitempty"`
	Schema      *TableSchema    `json:"schema,omitempty"`
	Sources     []Source        `json:"sources,omitempty"`
	Licenses    []License       `json:"licenses,omitempty"`
}

// ResourcePath is a resource's path: one file, written as a string, or
// several, written as an array.
type ResourcePath []string

// MarshalJSON writes one path as a string, several as an array.
func (p ResourcePath) MarshalJSON() ([]byte, error) {
	if len(p) == 1 {
		return json.Marshal(p[0])
	}
	return json.Marshal([]string(p))
}

// UnmarshalJSON reads a string or an array of strings.
func (p *ResourcePath) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*p = ResourcePath{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("path must be a string or an array of strings")
	}
	*p = many
	return nil
}

// TableSchema is a Table Schema (https://specs.frictionlessdata.io/table-schema/).
type TableSchema struct {
	Fields        []Field  `json:"fields"`
	PrimaryKey    []string `json:"primaryKey,omitempty"`
	MissingValues []string `json:"missingValues,omitempty"`
}

// Field is one column of a Table Schema. Unit, a visastats property, says
// what a number counts ("applications", "fraction").
type Field struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Format      string `json:"format,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Unit        string `json:"unit,omitempty"`
}

// tableSchemaTypes is the Table Schema type vocabulary.
var tableSchemaTypes = map[string]bool{
	"string": true, "number": true, "integer": true, "boolean": true, "object": true, "array": true,
	"date": true, "time": true, "datetime": true, "year": true, "yearmonth": true, "duration": true,
	"geopoint": true, "geojson": true, "any": true,
}

// TableSchemaType maps a DuckDB column type, as written in the column
// catalogue or returned by DESCRIBE, to a Table Schema type.
func TableSchemaType(duckdbType string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(duckdbType))
	if i := strings.IndexByte(t, '('); i > 0 {
		t = t[:i] // DECIMAL(18,3)
	}
	switch t {
	case "VARCHAR", "TEXT", "STRING", "UUID", "ENUM":
		return "string", nil
	case "TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT":
		return "integer", nil
	case "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC":
		return "number", nil
	case "BOOLEAN", "BOOL":
		return "boolean", nil
	case "DATE":
		return "date", nil
	case "TIME":
		return "time", nil
	case "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME":
		return "datetime", nil
	case "INTERVAL":
		return "duration", nil
	}
	return "", fmt.Errorf("DuckDB type %q has no Table Schema type", duckdbType)
}

// WriteDataPackage writes p as the descriptor at path, indented. An empty
// Profile is written as tabular-data-package. The file appears under path
// only when complete.
func WriteDataPackage(path string, p DataPackage) error {
	if p.Profile == "" {
		p.Profile = ProfileTabularDataPackage
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeAtomic(path, func(f *os.File) error {
		_, err := f.Write(append(b, '\n'))
		return err
	})
}

// ValidationError lists everything wrong with a Data Package, each
// problem naming the resource and property it is about.
type ValidationError struct {
	Descriptor string
	Problems   []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("data package %s: %d problem(s):\n  %s", e.Descriptor, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

var namePattern = regexp.MustCompile(`^[a-z0-9._-]+$`)

// ValidateDataPackage checks the descriptor dir/datapackage.json against
// the Data Package v1 profile and against the files it describes:
//   - the package has resources; each has a name matching ^[a-z0-9._-]+$,
//     unique in the package, and a path or inline data;
//   - every path is relative, stays inside dir, and exists (URLs are not
//     fetched);
//   - a tabular resource has a schema; its field names are unique, its
//     field types come from the Table Schema vocabulary, its primary key
//     names fields;
//   - licences have a name or a path, sources a title;
//   - declared bytes, hash and rows match the files: rows from Parquet
//     footers or CSV records, and the Parquet columns, plus hive partition
//     keys in the paths, or the CSV header, match the schema's fields.
//
// It returns nil or a *ValidationError listing every problem.
func ValidateDataPackage(dir string) error {
	descriptor := filepath.Join(dir, DataPackageFile)
	raw, err := os.ReadFile(descriptor)
	if err != nil {
		return fmt.Errorf("data package %s: %w", descriptor, err)
	}
	var p DataPackage
	if err := json.Unmarshal(raw, &p); err != nil {
		return &ValidationError{Descriptor: descriptor, Problems: []string{"not a valid descriptor: " + err.Error()}}
	}
	v := &validator{dir: dir}
	switch p.Profile {
	case "", "data-package", ProfileTabularDataPackage:
	default:
		if !isURL(p.Profile) {
			v.add("profile %q: want %q, %q or a URL", p.Profile, "data-package", ProfileTabularDataPackage)
		}
	}
	if p.Name != "" && !namePattern.MatchString(p.Name) {
		v.add("name %q: use lower-case letters, digits and . _ - only", p.Name)
	}
	v.licenses("package", p.Licenses)
	v.sources("package", p.Sources)
	if len(p.Resources) == 0 {
		v.add("resources: the package has none; it needs at least one")
	}
	names := map[string]bool{}
	for i, r := range p.Resources {
		where := fmt.Sprintf("resources[%d] %q", i, r.Name)
		switch {
		case r.Name == "":
			v.add("resources[%d]: no name", i)
		case !namePattern.MatchString(r.Name):
			v.add("%s: name must match ^[a-z0-9._-]+$", where)
		case names[r.Name]:
			v.add("%s: name used by another resource", where)
		}
		names[r.Name] = true
		tabular := p.Profile == ProfileTabularDataPackage || r.Profile == ProfileTabularDataResource
		if tabular && !strings.EqualFold(r.Format, "csv") && !strings.HasSuffix(strings.ToLower(firstPath(r.Path)), ".csv") {
			if r.Profile == ProfileTabularDataResource {
				v.add("%s: profile %q is for CSV files in Data Package v1; a %s file is a %q", where, r.Profile, resourceFormat(r), ProfileDataResource)
			} else {
				v.add("%s: a %q holds only tabular data resources (CSV); this one is %s: use profile %q for the package", where, p.Profile, resourceFormat(r), ProfileDataPackage)
			}
		}
		v.resource(where, r, tabular)
	}
	if len(v.problems) > 0 {
		return &ValidationError{Descriptor: descriptor, Problems: v.problems}
	}
	return nil
}

type validator struct {
	dir      string
	problems []string
}

func (v *validator) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validator) licenses(where string, ls []License) {
	for i, l := range ls {
		if l.Name == "" && l.Path == "" {
			v.add("%s: licenses[%d]: needs a name or a path", where, i)
		}
	}
}

func (v *validator) sources(where string, ss []Source) {
	for i, s := range ss {
		if s.Title == "" {
			v.add("%s: sources[%d]: needs a title", where, i)
		}
	}
}

func firstPath(p ResourcePath) string {
	if len(p) == 0 {
		return ""
	}
	return p[0]
}

func resourceFormat(r Resource) string {
	if r.Format != "" {
		return r.Format
	}
	return strings.TrimPrefix(path.Ext(firstPath(r.Path)), ".")
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func (v *validator) resource(where string, r Resource, tabular bool) {
	v.licenses(where, r.Licenses)
	v.sources(where, r.Sources)
	switch {
	case len(r.Path) == 0 && len(r.Data) == 0:
		v.add("%s: needs a path or inline data", where)
	case len(r.Path) > 0 && len(r.Data) > 0:
		v.add("%s: has both a path and inline data", where)
	}
	if tabular && r.Schema == nil {
		v.add("%s: a tabular resource needs a schema", where)
	}
	var fields []string
	if r.Schema != nil {
		if len(r.Schema.Fields) == 0 {
			v.add("%s: schema has no fields", where)
		}
		seen := map[string]bool{}
		for j, f := range r.Schema.Fields {
			if f.Name == "" {
				v.add("%s: schema.fields[%d]: no name", where, j)
			} else if seen[f.Name] {
				v.add("%s: schema field %q appears twice", where, f.Name)
			}
			seen[f.Name] = true
			if f.Type != "" && !tableSchemaTypes[f.Type] {
				v.add("%s: schema field %q: type %q is not a Table Schema type", where, f.Name, f.Type)
			}
			fields = append(fields, f.Name)
		}
		for _, k := range r.Schema.PrimaryKey {
			if !seen[k] {
				v.add("%s: primaryKey names %q, which is not a field", where, k)
			}
		}
	}
	if len(r.Path) == 0 {
		return
	}
	var files []string
	for _, p := range r.Path {
		if isURL(p) {
			return // remote data are not fetched
		}
		clean := path.Clean(p)
		if p == "" || path.IsAbs(p) || filepath.IsAbs(p) || strings.Contains(p, `\`) || clean == ".." || strings.HasPrefix(clean, "../") {
			v.add("%s: path %q must be a relative POSIX path inside the package", where, p)
			return
		}
		full := filepath.Join(v.dir, filepath.FromSlash(clean))
		if st, err := os.Stat(full); err != nil {
			v.add("%s: path %q: no such file", where, p)
			return
		} else if st.IsDir() {
			v.add("%s: path %q is a folder; list its files", where, p)
			return
		}
		files = append(files, full)
	}
	if r.Bytes != 0 || r.Hash != "" {
		v.digest(where, r, files)
	}
	format := strings.ToLower(r.Format)
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(path.Ext(r.Path[0])), ".")
	}
	switch format {
	case "parquet":
		v.parquet(where, r, files, fields)
	case "csv":
		v.csv(where, r, files, fields)
	default:
		if r.Rows != nil {
			v.add("%s: rows declared for format %q, which cannot be counted", where, format)
		}
	}
}

// digest checks bytes and hash, computed over the files in order.
func (v *validator) digest(where string, r Resource, files []string) {
	alg, want := "md5", strings.ToLower(r.Hash)
	if a, h, ok := strings.Cut(want, ":"); ok {
		alg, want = a, h
	}
	var h hash.Hash
	switch alg {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		v.add("%s: hash %q: algorithm %q is not md5, sha1, sha256 or sha512", where, r.Hash, alg)
		h = sha256.New()
		want = "" // nothing to compare with
	}
	var size int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			v.add("%s: %v", where, err)
			return
		}
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			v.add("%s: %v", where, err)
			return
		}
		size += n
	}
	if r.Bytes != 0 && r.Bytes != size {
		v.add("%s: bytes: declares %d, the files hold %d", where, r.Bytes, size)
	}
	if want != "" {
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			v.add("%s: hash: declares %s, the files hash to %s:%s", where, r.Hash, alg, got)
		}
	}
}

// parquet checks rows against the files' footers and the fields against
// their columns and the hive keys of their folders.
func (v *validator) parquet(where string, r Resource, files, fields []string) {
	var rows int64
	declared := map[string]bool{}
	for _, f := range fields {
		declared[f] = true
	}
	for i, name := range files {
		pf, err := file.OpenParquetFile(name, false)
		if err != nil {
			v.add("%s: path %q: not a readable Parquet file: %v", where, r.Path[i], err)
			return
		}
		rows += pf.NumRows()
		present := map[string]bool{}
		sc := pf.MetaData().Schema
		for c := 0; c < sc.Root().NumFields(); c++ {
			col := sc.Root().Field(c).Name()
			present[col] = true
			if len(fields) > 0 && !declared[col] {
				v.add("%s: path %q has column %q, which the schema does not declare", where, r.Path[i], col)
			}
		}
		pf.Close()
		for _, seg := range strings.Split(path.Dir(r.Path[i]), "/") {
			if k, _, ok := strings.Cut(seg, "="); ok {
				present[k] = true
			}
		}
		for _, f := range fields {
			if !present[f] {
				v.add("%s: field %q is neither a column of %q nor a partition key in its path", where, f, r.Path[i])
			}
		}
	}
	if r.Rows != nil && *r.Rows != rows {
		v.add("%s: rows: declares %d, the Parquet files hold %d", where, *r.Rows, rows)
	}
}

// csv checks rows against the records of the files, the header of the
// first file against the fields.
func (v *validator) csv(where string, r Resource, files, fields []string) {
	var rows int64
	for i, name := range files {
		f, err := os.Open(name)
		if err != nil {
			v.add("%s: %v", where, err)
			return
		}
		cr := csv.NewReader(bufio.NewReader(f))
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		first := true
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				v.add("%s: path %q: %v", where, r.Path[i], err)
				f.Close()
				return
			}
			if first && i == 0 {
				first = false
				if len(fields) > 0 && strings.Join(rec, "\x00") != strings.Join(fields, "\x00") {
					v.add("%s: path %q: header %q differs from the schema's fields %q", where, r.Path[i], rec, fields)
				}
				continue
			}
			rows++
		}
		f.Close()
	}
	if r.Rows != nil && *r.Rows != rows {
		v.add("%s: rows: declares %d, the CSV files hold %d", where, *r.Rows, rows)
	}
}
