package sql

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/visastats/visastats/output"
)

//go:embed *.sql checks/*.sql columns.csv tables.csv sources.csv
var files embed.FS

// Transform is one embedded SQL transform.
type Transform struct {
	Number int
	Name   string // file name without number and extension, e.g. "observations"
	File   string
	// Then names what the pipeline does right after the transform, from a
	// "-- Then: <step>" header line; "" when nothing. The steps are the
	// pipeline's (previous_observations: load the previous release's
	// observations, compared against from there on).
	Then string
	SQL  string
}

// Check is one embedded check query. It returns one row per problem found;
// no rows means the check passed.
type Check struct {
	Name string
	File string
	// Blocking checks stop a release; the others are reported as warnings.
	Blocking bool
	// After names the transform after which the check runs, so that a
	// problem is reported where it arises; "" means after all transforms.
	After string
	// ShowAll says that a report shows every problem the check returns, not
	// the first few: set by a "-- Show: all" header line where each row is
	// one thing to fix (a distinct unmapped spelling, say).
	ShowAll bool
	SQL     string
}

var transformName = regexp.MustCompile(`^(\d{3})_([a-z][a-z0-9_]*)\.sql$`)
var checkName = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.sql$`)
var afterLine = regexp.MustCompile(`(?m)^-- After: ([a-z][a-z0-9_]*)\s*$`)
var severityLine = regexp.MustCompile(`(?m)^-- Severity: (blocking|warning)\s*$`)
var showLine = regexp.MustCompile(`(?m)^-- Show: all\s*$`)
var thenLine = regexp.MustCompile(`(?m)^-- Then:[ \t]+([a-z][a-z0-9_]*)(?:[ \t].*)?$`)

// Transforms returns the embedded transforms in number order. It fails on a
// file whose name does not match NNN_name.sql, a duplicate number, or a file
// without a statement, so that nothing is skipped silently.
func Transforms() ([]Transform, error) { return transforms(files, ".") }

func transforms(fsys fs.FS, dir string) ([]Transform, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("list transforms: %w", err)
	}
	var out []Transform
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := transformName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("transform %s: name must be NNN_name.sql (three digits, lower-case name)", e.Name())
		}
		n, _ := strconv.Atoi(m[1])
		if prev, ok := seen[n]; ok {
			return nil, fmt.Errorf("transform %s: number %03d is already used by %s", e.Name(), n, prev)
		}
		seen[n] = e.Name()
		body, err := readStatement(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		t := Transform{Number: n, Name: m[2], File: e.Name(), SQL: body}
		if then := thenLine.FindStringSubmatch(body); then != nil {
			t.Then = then[1]
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// Checks returns the embedded checks (checks/*.sql) in name order.
func Checks() ([]Check, error) {
	entries, err := fs.ReadDir(files, "checks")
	if err != nil {
		return nil, fmt.Errorf("list checks: %w", err)
	}
	var out []Check
	for _, e := range entries {
		m := checkName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("check %s: name must be name.sql (lower case)", e.Name())
		}
		body, err := readStatement(files, "checks/"+e.Name())
		if err != nil {
			return nil, err
		}
		sev := severityLine.FindStringSubmatch(body)
		if sev == nil {
			return nil, fmt.Errorf("check %s: the header must say \"-- Severity: blocking\" or \"-- Severity: warning\"", e.Name())
		}
		var after string
		if a := afterLine.FindStringSubmatch(body); a != nil {
			after = a[1]
		}
		out = append(out, Check{Name: m[1], File: e.Name(), Blocking: sev[1] == "blocking", After: after,
			ShowAll: showLine.MatchString(body), SQL: body})
	}
	return out, nil
}

// readStatement returns the file's SQL. It fails unless the file starts
// with a header comment and holds exactly one statement, so that a file is
// one model and a second statement cannot be added (or half-removed) unseen.
func readStatement(fsys fs.FS, name string) (string, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	s := string(b)
	starts, err := statementStarts(s)
	if err != nil {
		return "", fmt.Errorf("transform %s: %w", name, err)
	}
	switch {
	case len(starts) == 0:
		return "", fmt.Errorf("transform %s: the file has no statement", name)
	case len(starts) > 1:
		return "", fmt.Errorf("transform %s: the file holds %d statements (the second starts on line %d); a file holds one statement",
			name, len(starts), lineOf(s, starts[1]))
	}
	if !strings.HasPrefix(strings.TrimSpace(s), "--") {
		return "", fmt.Errorf("transform %s: the file must start with a header comment (purpose, inputs, grain)", name)
	}
	return s, nil
}

// statementStarts returns the byte offset of the first token of each
// statement in s. Statements end at a semicolon outside string literals
// ('...', E'...' with backslash escapes, $tag$...$tag$), quoted identifiers
// ("...") and comments (-- to the end of the line, nested /* */); a part
// between semicolons with nothing but comments and whitespace is no
// statement. An unterminated literal, identifier or comment is an error.
func statementStarts(s string) ([]int, error) {
	var starts []int
	inStatement := false
	token := func(i int) {
		if !inStatement {
			starts = append(starts, i)
			inStatement = true
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ';':
			inStatement = false
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "--"):
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(s)
			}
		case strings.HasPrefix(s[i:], "/*"):
			depth, j := 1, i+2
			for depth > 0 {
				switch {
				case j >= len(s):
					return nil, fmt.Errorf("line %d: comment /* is not closed", lineOf(s, i))
				case strings.HasPrefix(s[j:], "/*"):
					depth, j = depth+1, j+2
				case strings.HasPrefix(s[j:], "*/"):
					depth, j = depth-1, j+2
				default:
					j++
				}
			}
			i = j
		case c == '\'' || c == '"':
			token(i)
			escapes := c == '\'' && i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && (i == 1 || !isWordByte(s[i-2]))
			j, err := quoteEnd(s, i, escapes)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '$' && (i == 0 || !isWordByte(s[i-1])):
			token(i)
			if tag := dollarTag.FindString(s[i:]); tag != "" {
				j := strings.Index(s[i+len(tag):], tag)
				if j < 0 {
					return nil, fmt.Errorf("line %d: string %s is not closed", lineOf(s, i), tag)
				}
				i += len(tag) + j + len(tag)
			} else {
				i++
			}
		default:
			token(i)
			i++
		}
	}
	return starts, nil
}

// dollarTag matches the opening of a dollar-quoted string: $$ or $tag$.
var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`)

// quoteEnd returns the offset just past the literal or identifier that
// opens at s[i]; a doubled quote stands for itself, and with escapes a
// backslash escapes the next byte.
func quoteEnd(s string, i int, escapes bool) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case escapes && s[j] == '\\':
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	what := "string"
	if q == '"' {
		what = "quoted identifier"
	}
	return 0, fmt.Errorf("line %d: %s opened with %c is not closed", lineOf(s, i), what, q)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// lineOf returns the 1-based line of byte offset i in s.
func lineOf(s string, i int) int { return strings.Count(s[:i], "\n") + 1 }

// Column documents one column of a public table.
type Column struct {
	Table       string
	Name        string
	Label       string // header shown to people (workbook, web page)
	Type        string // DuckDB type as created by the transforms
	Unit        string
	Format      output.Format // how spreadsheets and pages show its cells
	Description string
}

// Catalogue returns the documentation of every public table's columns, in
// file order (which is the tables' column order).
func Catalogue() ([]Column, error) { return catalogue(files) }

func catalogue(fsys fs.FS) ([]Column, error) {
	recs, err := readCSV(fsys, "columns.csv", []string{"table", "column", "label", "type", "unit", "format", "description"})
	if err != nil {
		return nil, err
	}
	var out []Column
	for _, r := range recs {
		rec := r.fields
		c := Column{Table: rec[0], Name: rec[1], Label: rec[2], Type: rec[3], Unit: rec[4], Format: output.Format(rec[5]), Description: rec[6]}
		if !c.Format.Valid() {
			return nil, r.errorf("format", "unknown format %q", c.Format)
		}
		if c.Description == "" {
			return nil, r.errorf("description", "%s.%s has no description", c.Table, c.Name)
		}
		out = append(out, c)
	}
	return out, nil
}

// QuoteIdent quotes an identifier for DuckDB. Identifiers reach SQL only from
// embedded names (tables and columns of the catalogue), never from input.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
