package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The files of the EC layout reference, in the layouts directory (by
// default the reference directory).
const (
	ECLayoutsFile       = "ec_layouts.csv"
	ECLayoutColumnsFile = "ec_layout_columns.csv"
)

// Roles of a column of an EC layout.
const (
	ecRoleState       = "state"         // the Schengen State (name or EU code)
	ecRoleHostCountry = "host_country"  // the country where the consulate is
	ecRoleConsulate   = "consulate"     // the consulate's town
	ecRoleCount       = "count"         // a published count: its indicator
	ecRoleDerived     = "derived"       // a rate or a total of other columns
	ecRoleFlag        = "schengen_flag" // Yes/No: is the State in Schengen
	ecRoleIgnore      = "ignore"        // known, not loaded (region, ids)
)

// Coverages of a layout's data sheet.
const (
	// ECCoverageSchengen: every row is a Schengen State's consulate.
	ECCoverageSchengen = "schengen"
	// ECCoverageNonSchengen: no row is (Bulgaria, Cyprus, Romania in 2010).
	ECCoverageNonSchengen = "non_schengen"
	// ECCoverageFlagged: the layout's schengen_flag column says, row by row.
	ECCoverageFlagged = "flagged"
)

// ECLayout is one of the layouts the Commission has published its
// consulate workbooks in: which sheets hold the data and what each header
// means. Layouts are data (ec_layouts.csv, ec_layout_columns.csv), and a
// sheet's layout is detected from its header cells, never from the file's
// name or year.
type ECLayout struct {
	Name   string
	Sheets []ECLayoutSheet
	// Columns maps a normalised header text (NormaliseHeader) to what the
	// column holds. Several texts may mean the same column (old wordings).
	Columns map[string]ECLayoutColumn
}

// ECLayoutSheet is a data sheet of a layout.
type ECLayoutSheet struct {
	// Pattern matches the sheet's name, case-insensitively, with * for
	// any text ("Visa Statistics *").
	Pattern string
	// Coverage is one of the ECCoverage* constants.
	Coverage string
	// TotalLabel starts the label of the footer row that totals the data
	// rows ("total worldwide"), case-insensitively.
	TotalLabel string
}

// ECLayoutColumn is what a header of a layout means.
type ECLayoutColumn struct {
	Header    string
	Role      string
	Indicator string   // for count columns: one of ECIndicators
	Parts     []string // for derived totals: the indicators they add up
	Line      int      // in ec_layout_columns.csv
}

// key identifies the column of a layout that a header fills, whatever its
// wording: two headers with the same key in one sheet are an error.
func (c ECLayoutColumn) key() string {
	switch c.Role {
	case ecRoleCount:
		return c.Role + ":" + c.Indicator
	case ecRoleDerived, ecRoleIgnore:
		return c.Role + ":" + c.Header
	}
	return c.Role
}

// required says whether a sheet of the layout must have the column.
func (c ECLayoutColumn) required() bool {
	return c.Role != ecRoleDerived && c.Role != ecRoleIgnore
}

// ECLayouts are the known layouts, read from the layouts directory.
type ECLayouts struct {
	Dir     string
	Layouts []*ECLayout
}

// Files returns the reference files of the layouts directory: the
// layouts and what the measures count in which years.
func (l *ECLayouts) Files() []string {
	return []string{filepath.Join(l.Dir, ECLayoutsFile), filepath.Join(l.Dir, ECLayoutColumnsFile), filepath.Join(l.Dir, ECComparabilityFile)}
}

// ReadECLayouts reads ec_layouts.csv and ec_layout_columns.csv from dir and
// checks them: known roles, coverages and indicators, every layout with
// sheets and with its state, host country, consulate and at least one count
// column, no header twice in a layout.
func ReadECLayouts(dir string) (*ECLayouts, error) {
	out := &ECLayouts{Dir: dir}
	byName := map[string]*ECLayout{}
	sheetsPath := filepath.Join(dir, ECLayoutsFile)
	err := readRefCSV(sheetsPath, []string{"layout", "sheet", "coverage", "total_label", "description"}, func(line int, rec []string) error {
		name, sheet, coverage, total := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2]), NormaliseHeader(rec[3])
		if name == "" || sheet == "" || total == "" {
			return &LocatedError{File: sheetsPath, Line: int64(line), Err: fmt.Errorf("layout, sheet and total_label must not be empty")}
		}
		switch coverage {
		case ECCoverageSchengen, ECCoverageNonSchengen, ECCoverageFlagged:
		default:
			return &LocatedError{File: sheetsPath, Line: int64(line), Column: "coverage", Value: coverage,
				Err: fmt.Errorf("expected %s, %s or %s", ECCoverageSchengen, ECCoverageNonSchengen, ECCoverageFlagged)}
		}
		if _, err := path.Match(strings.ToLower(sheet), ""); err != nil {
			return &LocatedError{File: sheetsPath, Line: int64(line), Column: "sheet", Value: sheet, Err: fmt.Errorf("not a valid name pattern: %w", err)}
		}
		lay := byName[name]
		if lay == nil {
			lay = &ECLayout{Name: name, Columns: map[string]ECLayoutColumn{}}
			byName[name] = lay
			out.Layouts = append(out.Layouts, lay)
		}
		lay.Sheets = append(lay.Sheets, ECLayoutSheet{Pattern: sheet, Coverage: coverage, TotalLabel: total})
		return nil
	})
	if err != nil {
		return nil, err
	}
	colsPath := filepath.Join(dir, ECLayoutColumnsFile)
	err = readRefTable(colsPath, []string{"layout", "header", "role"}, []string{"indicator", "parts"}, func(line int, rec []string) error {
		at := func(col, value string, err error) error {
			return &LocatedError{File: colsPath, Line: int64(line), Column: col, Value: value, Err: err}
		}
		lay := byName[strings.TrimSpace(rec[0])]
		if lay == nil {
			return at("layout", rec[0], fmt.Errorf("no such layout in %s", ECLayoutsFile))
		}
		c := ECLayoutColumn{Header: NormaliseHeader(rec[1]), Role: strings.TrimSpace(rec[2]), Indicator: strings.TrimSpace(cell(rec, 3)), Line: line}
		if c.Header == "" {
			return at("header", rec[1], fmt.Errorf("empty header"))
		}
		if _, dup := lay.Columns[c.Header]; dup {
			return at("header", rec[1], fmt.Errorf("layout %s lists this header twice", lay.Name))
		}
		switch c.Role {
		case ecRoleCount:
			if !slices.Contains(ECIndicators(), c.Indicator) {
				return at("indicator", c.Indicator, fmt.Errorf("a count column needs one of the indicators %s", strings.Join(ECIndicators(), ", ")))
			}
		case ecRoleState, ecRoleHostCountry, ecRoleConsulate, ecRoleDerived, ecRoleFlag, ecRoleIgnore:
			if c.Indicator != "" {
				return at("indicator", c.Indicator, fmt.Errorf("only count columns have an indicator"))
			}
		default:
			return at("role", c.Role, fmt.Errorf("expected one of state, host_country, consulate, count, derived, schengen_flag, ignore"))
		}
		for _, p := range strings.Fields(cell(rec, 4)) {
			if !slices.Contains(ECIndicators(), p) {
				return at("parts", cell(rec, 4), fmt.Errorf("%q is not an indicator", p))
			}
			c.Parts = append(c.Parts, p)
		}
		if len(c.Parts) > 0 && c.Role != ecRoleDerived {
			return at("parts", cell(rec, 4), fmt.Errorf("only derived columns add up parts"))
		}
		lay.Columns[c.Header] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, lay := range out.Layouts {
		roles := map[string]bool{}
		flagged := false
		for _, c := range lay.Columns {
			roles[c.Role] = true
		}
		for _, s := range lay.Sheets {
			flagged = flagged || s.Coverage == ECCoverageFlagged
		}
		for _, r := range []string{ecRoleState, ecRoleHostCountry, ecRoleConsulate, ecRoleCount} {
			if !roles[r] {
				return nil, fmt.Errorf("%s: layout %s has no %s column", colsPath, lay.Name, r)
			}
		}
		if flagged != roles[ecRoleFlag] {
			return nil, fmt.Errorf("%s: layout %s: a flagged sheet needs a schengen_flag column, and only a flagged sheet has one", colsPath, lay.Name)
		}
	}
	if len(out.Layouts) == 0 {
		return nil, fmt.Errorf("%s: no layouts", sheetsPath)
	}
	return out, nil
}

// sheetMatches says whether the layout sheet's pattern matches name.
func (s ECLayoutSheet) sheetMatches(name string) bool {
	ok, _ := path.Match(strings.ToLower(s.Pattern), strings.ToLower(strings.TrimSpace(name)))
	return ok
}

// ecDataSheet is a sheet of a workbook that a layout says holds data.
type ecDataSheet struct {
	name   string
	layout *ECLayout
	spec   ECLayoutSheet
}

// dataSheets lists the workbook's sheets that some layout names, in the
// workbook's order. A sheet named by two layouts is matched by its headers
// later (detect).
func (l *ECLayouts) dataSheets(names []string) []ecDataSheet {
	var out []ecDataSheet
	for _, n := range names {
		for _, lay := range l.Layouts {
			for _, s := range lay.Sheets {
				if s.sheetMatches(n) {
					out = append(out, ecDataSheet{name: n, layout: lay, spec: s})
				}
			}
		}
	}
	return out
}

// knownSheets lists the sheet name patterns of every layout, for messages.
func (l *ECLayouts) knownSheets() string {
	var out []string
	for _, lay := range l.Layouts {
		for _, s := range lay.Sheets {
			out = append(out, fmt.Sprintf("%q (%s)", s.Pattern, lay.Name))
		}
	}
	return strings.Join(out, ", ")
}

// ecColumns is a layout resolved against one sheet's header: where each of
// its columns is.
type ecColumns struct {
	layout     *ECLayout
	headerRows int
	state      int
	host       int
	consulate  int
	flag       int // -1 when the layout has none
	// counts holds the position of each indicator's column, -1 when the
	// layout has none (absent, not zero).
	counts []int
	// derived lists the derived columns that add up parts, for the
	// footer cross-checks.
	derived []ecDerived
	// labels are the text columns a footer label may sit in (names,
	// regions), in column order.
	labels []int
	// headers are the header texts as published, by column.
	headers []string
}

type ecDerived struct {
	col   int
	parts []int // indicator indexes
}

// header returns the published header of column col, for messages.
func (c *ecColumns) header(col int) string {
	if col >= 0 && col < len(c.headers) {
		return NormaliseHeader(c.headers[col])
	}
	return ""
}

// isHeader says whether row repeats the header (2012 repeats it above its
// footer, one wording changed): no cell holds a number and most of the
// non-empty cells are header texts of the layout.
func (c *ecColumns) isHeader(row []string) bool {
	known, n := 0, 0
	for _, v := range row {
		if _, ok := parseNumber(v); ok {
			return false
		}
		if h := NormaliseHeader(v); h != "" {
			n++
			if _, ok := c.layout.Columns[h]; ok {
				known++
			}
		}
	}
	return n > 0 && 2*known > n
}

// ecHeaderMatch is how well one layout fits a sheet's header.
type ecHeaderMatch struct {
	cols    *ecColumns
	known   int
	unknown []string // column letter and header text
	missing []string // what the layout needs and the sheet lacks
	twice   []string
}

// detect finds the layout of the sheet from its header cells: row 1, or
// rows 1 and 2 together when row 1 alone fits no layout and row 2 holds no
// number (a header merged over two rows). A sheet fits a layout when every
// non-empty header is one of the layout's, no column is there twice, and
// every name and count column of the layout is there. Otherwise the error
// names the headers found and the closest layout.
func (l *ECLayouts) detect(file, sheet string, candidates []*ECLayout, rows [][]string) (*ecColumns, error) {
	if len(rows) == 0 {
		return nil, &LocatedError{File: file, Sheet: sheet, Line: 1, Err: fmt.Errorf("the sheet is empty; expected a header row")}
	}
	var best *ecHeaderMatch
	var bestHeaders []string
	for h := 1; h <= 2 && h <= len(rows); h++ {
		if h == 2 && rowHasNumber(rows[1]) {
			break
		}
		headers := slices.Clone(rows[0])
		if h == 2 {
			for i, v := range rows[1] {
				if i >= len(headers) {
					headers = append(headers, v)
				} else if strings.TrimSpace(v) != "" {
					headers[i] = headers[i] + " " + v
				}
			}
		}
		for _, lay := range candidates {
			m := matchLayout(lay, headers)
			m.cols.headerRows = h
			if len(m.unknown) == 0 && len(m.missing) == 0 && len(m.twice) == 0 {
				return m.cols, nil
			}
			if best == nil || m.known > best.known {
				best, bestHeaders = m, headers
			}
		}
	}
	var found []string
	for i, h := range bestHeaders {
		if strings.TrimSpace(h) != "" {
			found = append(found, fmt.Sprintf("%s %q", colName(i), cleanName(h)))
		}
	}
	var why []string
	if len(best.unknown) > 0 {
		why = append(why, "it does not know "+strings.Join(best.unknown, ", "))
	}
	if len(best.missing) > 0 {
		why = append(why, "the sheet lacks "+strings.Join(best.missing, ", "))
	}
	if len(best.twice) > 0 {
		why = append(why, "the sheet has twice "+strings.Join(best.twice, ", "))
	}
	return nil, &LocatedError{File: file, Sheet: sheet, Line: 1, Err: fmt.Errorf(
		"the headers match no known layout (%s); the closest is %q: %s; headers found: %s. If the Commission has changed its layout, describe the new one in %s and %s",
		strings.Join(l.Files()[:2], ", "), best.cols.layout.Name, strings.Join(why, "; "), strings.Join(found, ", "), ECLayoutsFile, ECLayoutColumnsFile)}
}

func matchLayout(lay *ECLayout, headers []string) *ecHeaderMatch {
	cols := &ecColumns{layout: lay, state: -1, host: -1, consulate: -1, flag: -1, headers: headers,
		counts: slices.Repeat([]int{-1}, len(ECIndicators()))}
	m := &ecHeaderMatch{cols: cols}
	seen := map[string]int{}
	firstCount := -1
	for i, h := range headers {
		n := NormaliseHeader(h)
		if n == "" {
			continue
		}
		c, ok := lay.Columns[n]
		if !ok {
			m.unknown = append(m.unknown, fmt.Sprintf("%s %q", colName(i), cleanName(h)))
			continue
		}
		m.known++
		if prev, dup := seen[c.key()]; dup {
			m.twice = append(m.twice, fmt.Sprintf("%s and %s (%s)", colName(prev), colName(i), c.key()))
			continue
		}
		seen[c.key()] = i
		switch c.Role {
		case ecRoleState:
			cols.state = i
		case ecRoleHostCountry:
			cols.host = i
		case ecRoleConsulate:
			cols.consulate = i
		case ecRoleFlag:
			cols.flag = i
		case ecRoleCount:
			cols.counts[slices.Index(ECIndicators(), c.Indicator)] = i
			if firstCount < 0 {
				firstCount = i
			}
		case ecRoleDerived:
			if len(c.Parts) > 0 {
				d := ecDerived{col: i}
				for _, p := range c.Parts {
					d.parts = append(d.parts, slices.Index(ECIndicators(), p))
				}
				cols.derived = append(cols.derived, d)
			}
		}
	}
	need := map[string][]string{} // key -> every wording the layout knows
	for _, c := range lay.Columns {
		if c.required() {
			if _, ok := seen[c.key()]; !ok {
				need[c.key()] = append(need[c.key()], strconv.Quote(c.Header))
			}
		}
	}
	keys := make([]string, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sort.Strings(need[k])
		m.missing = append(m.missing, fmt.Sprintf("%s (%s)", strings.Join(need[k], " or "), k))
	}
	for i := range headers {
		if i == cols.state || i == cols.host || i == cols.consulate || (firstCount < 0 || i < firstCount) && strings.TrimSpace(headers[i]) != "" {
			if !slices.Contains(cols.labels, i) {
				cols.labels = append(cols.labels, i)
			}
		}
	}
	sort.Ints(cols.labels)
	return m
}

// rowHasNumber says whether any cell of row holds a number.
func rowHasNumber(row []string) bool {
	for _, v := range row {
		if _, ok := parseNumber(v); ok {
			return true
		}
	}
	return false
}

func colName(i int) string {
	n, _ := excelize.ColumnNumberToName(i + 1)
	return n
}

// ECComparabilityFile, in the layouts directory, says what each measure of
// the Schengen marts counts in which years, so that a change from one year
// to the next is published only where both years count the same thing.
const ECComparabilityFile = "ec_comparability.csv"

// ecComparabilityDDL holds ECComparabilityFile: last_year NULL means "up
// to now".
const ecComparabilityDDL = `CREATE OR REPLACE TABLE ref_ec_comparability (
	measure VARCHAR NOT NULL, first_year INTEGER NOT NULL, last_year INTEGER,
	definition VARCHAR NOT NULL, note VARCHAR NOT NULL, file VARCHAR NOT NULL, line INTEGER NOT NULL)`

// ecComparability is one line of ECComparabilityFile.
type ecComparability struct {
	measure, definition, note string
	first, last               int // last 0: up to now
	line                      int
}

// readECComparability reads and checks ECComparabilityFile: years in
// order, and no two lines of a measure covering the same year.
func readECComparability(path string) ([]ecComparability, error) {
	var out []ecComparability
	err := readRefTable(path, []string{"measure", "first_year"}, []string{"last_year", "definition", "note"}, func(line int, rec []string) error {
		at := func(col, v string, err error) error {
			return &LocatedError{File: path, Line: int64(line), Column: col, Value: v, Err: err}
		}
		c := ecComparability{measure: strings.TrimSpace(rec[0]), definition: strings.TrimSpace(cell(rec, 3)), note: strings.TrimSpace(cell(rec, 4)), line: line}
		var err error
		if c.first, err = strconv.Atoi(strings.TrimSpace(rec[1])); err != nil || c.first < 1900 || c.first > 2100 {
			return at("first_year", rec[1], errors.New("expected a year"))
		}
		if v := strings.TrimSpace(cell(rec, 2)); v != "" {
			if c.last, err = strconv.Atoi(v); err != nil || c.last < c.first || c.last > 2100 {
				return at("last_year", v, errors.New("expected a year from first_year on, or empty for up to now"))
			}
		}
		if c.definition == "" {
			return at("definition", "", errors.New("say what the measure counts in these years, or \"not measured\""))
		}
		for _, o := range out {
			oLast, cLast := o.last, c.last
			if oLast == 0 {
				oLast = 9999
			}
			if cLast == 0 {
				cLast = 9999
			}
			if o.measure == c.measure && c.first <= oLast && o.first <= cLast {
				return at("first_year", rec[1], fmt.Errorf("the years of %s overlap line %d's", c.measure, o.line))
			}
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// loadECComparability writes ref_ec_comparability from the file at path.
func loadECComparability(ctx context.Context, conn *sql.Conn, path string) (int64, error) {
	lines, err := readECComparability(path)
	if err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, ecComparabilityDDL); err != nil {
		return 0, fmt.Errorf("create ref_ec_comparability: %w", err)
	}
	return appendRows(ctx, conn, "ref_ec_comparability", func(add func(...driver.Value) error) error {
		for _, c := range lines {
			var last driver.Value
			if c.last != 0 {
				last = int32(c.last)
			}
			if err := add(c.measure, int32(c.first), last, c.definition, c.note, path, int32(c.line)); err != nil {
				return fmt.Errorf("load %s line %d: %w", path, c.line, err)
			}
		}
		return nil
	})
}
