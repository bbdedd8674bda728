package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ECSchengenSheet is the data sheet of the EC workbooks of 2014-2024, one
// row per Schengen State, host country and consulate.
const ECSchengenSheet = "Data for consulates"

// ECSchengenConfig configures the European Commission's yearly "Visa
// statistics for consulates" workbooks.
type ECSchengenConfig struct {
	// Path is a directory (every *.xlsx and *.xls in it) or one workbook.
	// The year of each file is the only 20xx in its name.
	Path string `mapstructure:"path"`
	// Files lists workbooks with explicit years, for names that do not
	// carry exactly one year.
	Files []ECSchengenFile `mapstructure:"files"`
	// Layouts is the directory of ec_layouts.csv and ec_layout_columns.csv,
	// the layouts the Commission has published in; by default the
	// reference directory.
	Layouts string `mapstructure:"layouts"`
	// Limits bound what is read from each file; set from the top-level
	// limits configuration, zero means the defaults.
	Limits Limits `mapstructure:"-"`
}

// ECSchengenFile is one workbook with its reference year.
type ECSchengenFile struct {
	Path string `mapstructure:"path"`
	Year int    `mapstructure:"year"`
	// Upstream marks the Commission's current workbook of Year, fetched
	// for this run: it supersedes the local workbook of the same year
	// (ECSchengen.Superseded lists what it replaced). Set by the caller
	// that fetched it (the pipeline's fetch stage), never by
	// configuration.
	Upstream bool `mapstructure:"-"`
}

// ECSuperseded is a local workbook left out of a run because the
// Commission's current workbook of the same year was fetched: the
// publisher's file wins, and the release's observation_changes lists what
// it changed against the previous release.
type ECSuperseded struct {
	Year int
	// Local is the workbook left out, by its configured path; Upstream
	// the fetched workbook read instead.
	Local, Upstream string
}

// ecIndicators are the count indicators of the EC workbooks, the count
// columns of raw_ec_schengen_consulates in order. Which of them a workbook
// has depends on its layout (ec_layout_columns.csv); the rest are absent.
var ecIndicators = []string{
	"atv_applied", "atv_issued", "atv_multiple_issued", "atv_not_issued",
	"uniform_applied", "uniform_issued", "uniform_mev_issued", "ltv_issued", "uniform_not_issued",
	"btv_issued", "abc_applied", "abc_not_issued", "d_issued", "dc_issued",
}

// ECIndicators lists the count indicators of the EC workbooks: the count
// columns of raw_ec_schengen_consulates, in order.
func ECIndicators() []string { return slices.Clone(ecIndicators) }

// ErrUnsupportedFormat reports an input in a format visastats cannot read.
var ErrUnsupportedFormat = errors.New("unsupported format")

// ErrUncalculated marks a count cell whose formula has no calculated value.
var ErrUncalculated = errors.New("formula not calculated")

// ECSchengen loads the EC consulate workbooks.
type ECSchengen struct {
	cfg    ECSchengenConfig
	issues UpstreamIssuesConfig
}

// NewECSchengen returns the source for the EC consulate workbooks. issues
// locates the maintainers' acceptances of investigated discrepancies.
func NewECSchengen(cfg ECSchengenConfig, issues UpstreamIssuesConfig) *ECSchengen {
	return &ECSchengen{cfg: cfg, issues: issues}
}

// Name implements Source.
func (s *ECSchengen) Name() string { return "ec_schengen_consulates" }

var yearInName = regexp.MustCompile(`20\d\d`)

// YearFromFileName returns the only 20xx year in the base name of path.
func YearFromFileName(path string) (int, error) {
	base := filepath.Base(path)
	seen := map[string]bool{}
	for _, m := range yearInName.FindAllString(base, -1) {
		seen[m] = true
	}
	if len(seen) != 1 {
		return 0, fmt.Errorf("year of %s: the name must contain exactly one 20xx year (found %d); list the file under files: with an explicit year", path, len(seen))
	}
	for y := range seen {
		return strconv.Atoi(y)
	}
	return 0, nil
}

// Inputs implements Source: the configured workbooks with their years, in
// year order, then the layout files and the acceptances, which decide what
// loads. A local workbook of a year that an upstream workbook (fetched for
// the run) has is not an input: see Superseded.
func (s *ECSchengen) Inputs(ctx context.Context) ([]Input, error) {
	out, _, err := s.resolve()
	if err != nil {
		return nil, err
	}
	if s.cfg.Layouts != "" {
		for _, p := range (&ECLayouts{Dir: s.cfg.Layouts}).Files() {
			out = append(out, Input{Path: p})
		}
	}
	if s.issues.Path != "" {
		out = append(out, Input{Path: s.issues.Path})
	}
	return out, nil
}

// Superseded lists, in year order, the local workbooks that an upstream
// workbook of the same year replaces in this run (none without upstream
// workbooks). The year of a local workbook is the one the source gives it:
// its files: entry's, or the one in its name.
func (s *ECSchengen) Superseded(ctx context.Context) ([]ECSuperseded, error) {
	_, sup, err := s.resolve()
	return sup, err
}

// resolve returns the workbooks to read, with their years, in year order,
// and the local ones that upstream workbooks supersede. Two local
// workbooks of one year, or two upstream ones, are an error: which one is
// meant cannot be told.
func (s *ECSchengen) resolve() ([]Input, []ECSuperseded, error) {
	var local []Input
	if s.cfg.Path != "" {
		paths, err := listFiles(s.cfg.Path, ".xlsx", ".xls")
		if err != nil {
			return nil, nil, err
		}
		for _, p := range paths {
			if err := checkFileName(p); err != nil {
				return nil, nil, fmt.Errorf("ec_schengen_consulates: %w", err)
			}
			y, err := YearFromFileName(p)
			if err != nil {
				return nil, nil, err
			}
			local = append(local, Input{Path: p, Year: y})
		}
	}
	upstream := map[int]string{}
	for _, f := range s.cfg.Files {
		if f.Year < 2000 || f.Year > 2099 {
			return nil, nil, fmt.Errorf("ec_schengen_consulates file %s: year %d is not a 20xx year", f.Path, f.Year)
		}
		if !f.Upstream {
			local = append(local, Input{Path: f.Path, Year: f.Year})
			continue
		}
		if prev, ok := upstream[f.Year]; ok {
			return nil, nil, fmt.Errorf("ec_schengen_consulates: two workbooks of %d from the Commission: %s and %s", f.Year, prev, f.Path)
		}
		upstream[f.Year] = f.Path
	}
	if len(local) == 0 && len(upstream) == 0 {
		return nil, nil, fmt.Errorf("ec_schengen_consulates: no workbooks configured (set path or files)")
	}
	byYear := map[int]string{}
	var out []Input
	var sup []ECSuperseded
	for _, in := range local {
		if prev, ok := byYear[in.Year]; ok {
			return nil, nil, fmt.Errorf("ec_schengen_consulates: two workbooks for %d: %s and %s", in.Year, prev, in.Path)
		}
		byYear[in.Year] = in.Path
		if up, ok := upstream[in.Year]; ok {
			sup = append(sup, ECSuperseded{Year: in.Year, Local: in.Path, Upstream: up})
			continue
		}
		out = append(out, in)
	}
	for y, p := range upstream {
		out = append(out, Input{Path: p, Year: y})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	sort.Slice(sup, func(i, j int) bool { return sup[i].Year < sup[j].Year })
	return out, sup, nil
}

// workbooks is Inputs without the reference files.
func (s *ECSchengen) workbooks(ctx context.Context) ([]Input, error) {
	ins, err := s.Inputs(ctx)
	if err != nil {
		return nil, err
	}
	var out []Input
	for _, in := range ins {
		if in.Year != 0 {
			out = append(out, in)
		}
	}
	return out, nil
}

// listFiles returns path itself when it is a file, or the files directly in
// it whose extension (case-insensitive) is one of exts, sorted.
func listFiles(path string, exts ...string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read input %s: %w", path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("read input directory %s: %w", path, err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") {
			continue
		}
		ext := strings.ToLower(filepath.Ext(name))
		for _, x := range exts {
			if ext == x {
				out = append(out, filepath.Join(path, name))
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// ecCountColumnsDDL declares the count columns of the raw tables: NULL
// where the workbook's layout has no such column.
func ecCountColumnsDDL() string {
	var b strings.Builder
	for _, ind := range ecIndicators {
		b.WriteString(", ")
		b.WriteString(ind)
		b.WriteString(" BIGINT")
	}
	return b.String()
}

var (
	ecRawDDL = `CREATE OR REPLACE TABLE raw_ec_schengen_consulates (
	file VARCHAR NOT NULL, sheet VARCHAR NOT NULL, "row" INTEGER NOT NULL, year INTEGER NOT NULL,
	layout VARCHAR NOT NULL, schengen BOOLEAN NOT NULL,
	schengen_state VARCHAR NOT NULL, host_country VARCHAR NOT NULL, consulate VARCHAR NOT NULL` + ecCountColumnsDDL() + `)`

	ecTotalsDDL = `CREATE OR REPLACE TABLE raw_ec_schengen_totals (
	file VARCHAR NOT NULL, sheet VARCHAR NOT NULL, "row" INTEGER NOT NULL, year INTEGER NOT NULL,
	label VARCHAR NOT NULL, data_rows INTEGER NOT NULL` + ecCountColumnsDDL() + `)`

	ecIssuesDDL = `CREATE OR REPLACE TABLE raw_ec_schengen_issues (
	file VARCHAR NOT NULL, file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, year INTEGER NOT NULL,
	sheet VARCHAR NOT NULL, cell VARCHAR NOT NULL, "column" VARCHAR NOT NULL, indicator VARCHAR NOT NULL,
	kind VARCHAR NOT NULL, location VARCHAR NOT NULL,
	printed_total BIGINT NOT NULL, printed_formula VARCHAR NOT NULL, data_rows_total BIGINT,
	explanation VARCHAR NOT NULL, cross_check VARCHAR NOT NULL, cross_check_status VARCHAR NOT NULL,
	handling VARCHAR NOT NULL, decision VARCHAR NOT NULL)`
)

// Load implements Source: it reads every workbook, checks it, and writes
// raw_ec_schengen_consulates (one row per consulate row of each data sheet,
// with whether the State was in Schengen; counts as published with blanks
// as 0, NULL where the layout has no such column or the cell is withheld),
// raw_ec_schengen_totals (the footer total row of each data sheet, as
// printed, except in the cells of raw_ec_schengen_issues, where it is the
// sum of the data rows as loaded) and raw_ec_schengen_issues (footer totals
// that disagree with the data rows, and withheld cells, with what explains
// them). An acceptance for a loaded workbook that names a cell without a
// discrepancy is an error (it is mistyped); one for a file that is not
// loaded (replaced by a corrected one) lets nothing through and stops
// nothing.
func (s *ECSchengen) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	inputs, err := s.workbooks(ctx)
	if err != nil {
		return st, err
	}
	if s.cfg.Layouts == "" {
		return st, errors.New("ec_schengen_consulates: no layouts directory configured (sources.ec_schengen_consulates.layouts)")
	}
	layouts, err := ReadECLayouts(s.cfg.Layouts)
	if err != nil {
		return st, err
	}
	accepted, err := ReadUpstreamAcceptances(s.issues.Path)
	if err != nil {
		return st, err
	}
	n, err := loadECComparability(ctx, conn, filepath.Join(s.cfg.Layouts, ECComparabilityFile))
	if err != nil {
		return st, err
	}
	st.add("ref_ec_comparability", n)
	for _, ddl := range []string{ecRawDDL, ecTotalsDDL, ecIssuesDDL} {
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return st, fmt.Errorf("create ec_schengen_consulates raw tables: %w", err)
		}
	}
	var books []*ECWorkbook
	used := map[string]bool{}
	shas := map[string]string{} // sha256 -> workbook
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		wb, err := ReadECWorkbookOptions(in.Path, ECReadOptions{Layouts: layouts, Accepted: accepted, Limits: s.cfg.Limits})
		if err != nil {
			return st, err
		}
		wb.Year = in.Year
		books = append(books, wb)
		for _, sh := range wb.Sheets {
			for _, is := range sh.Issues {
				if is.Handling == HandlingAccepted {
					used[UpstreamAcceptance{SHA256: wb.SHA256, Sheet: is.Sheet, Cell: is.Cell}.key()] = true
				}
			}
		}
		if wb.SHA256 == "" && len(accepted) > 0 {
			if _, wb.SHA256, err = FileDigest(in.Path); err != nil {
				return st, err
			}
		}
		shas[wb.SHA256] = in.Path
	}
	for _, a := range accepted {
		if used[a.key()] {
			continue
		}
		wb, ok := shas[a.SHA256]
		if !ok {
			// The accepted file is not loaded in this run: the publisher
			// replaced it (a corrected file must load without the row) or
			// the configuration leaves it out. Nothing to let through.
			continue
		}
		return st, &LocatedError{File: a.File, Line: int64(a.Line), Column: "cell", Value: a.Cell,
			Err: fmt.Errorf("%s sheet %q cell %s reconciles with its data rows or is not a footer total; there is nothing to accept", wb, a.Sheet, a.Cell)}
	}
	counts := func(sh *ECSheet, r ECRow) []driver.Value {
		out := make([]driver.Value, len(ecIndicators))
		for k := range ecIndicators {
			if sh.Has[k] && !slices.Contains(r.Withheld, k) {
				out[k] = r.Counts[k]
			}
		}
		return out
	}
	n, err = appendRows(ctx, conn, "raw_ec_schengen_consulates", func(add func(...driver.Value) error) error {
		for _, wb := range books {
			for _, sh := range wb.Sheets {
				for _, r := range sh.Rows {
					vals := append([]driver.Value{wb.File, sh.Name, int32(r.Row), int32(wb.Year), wb.Layout, r.Schengen, r.State, r.HostCountry, r.Consulate}, counts(sh, r)...)
					if err := add(vals...); err != nil {
						return fmt.Errorf("load %s sheet %q row %d: %w", wb.File, sh.Name, r.Row, err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.add("raw_ec_schengen_consulates", n)
	n, err = appendRows(ctx, conn, "raw_ec_schengen_totals", func(add func(...driver.Value) error) error {
		for _, wb := range books {
			for _, sh := range wb.Sheets {
				vals := append([]driver.Value{wb.File, sh.Name, int32(sh.Total.Row), int32(wb.Year), sh.Total.Consulate, int32(len(sh.Rows))}, counts(sh, sh.Total)...)
				if err := add(vals...); err != nil {
					return fmt.Errorf("load %s sheet %q totals: %w", wb.File, sh.Name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.add("raw_ec_schengen_totals", n)
	n, err = appendRows(ctx, conn, "raw_ec_schengen_issues", func(add func(...driver.Value) error) error {
		for _, wb := range books {
			for _, sh := range wb.Sheets {
				for _, is := range sh.Issues {
					var dataRows driver.Value
					if is.Kind == IssueFooterTotal {
						dataRows = is.DataRows
					}
					if err := add(wb.File, filepath.Base(wb.File), wb.SHA256, int32(wb.Year), is.Sheet, is.Cell, is.Column, is.Indicator, is.Kind, is.Location,
						is.Printed, is.Formula, dataRows, is.Explanation, is.CrossCheck, is.CrossCheckStatus, is.Handling, is.Decision); err != nil {
						return fmt.Errorf("load %s issue at %s: %w", wb.File, is.Cell, err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.add("raw_ec_schengen_issues", n)
	return st, nil
}

// ECWorkbook is the checked content of one EC workbook: its data sheets.
type ECWorkbook struct {
	File string
	Year int
	// Layout names the layout its header matched (ec_layouts.csv).
	Layout string
	// Sheets are the data sheets, in the workbook's order; the first holds
	// the Schengen States (all of them, or flagged row by row).
	Sheets []*ECSheet
	// SHA256 is the file's hex SHA-256, set when it was needed (a
	// discrepancy was found, or acceptances were given).
	SHA256 string
}

// ECRow is one data row of a data sheet.
type ECRow struct {
	Row         int
	State       string
	HostCountry string
	Consulate   string
	// Schengen says whether the State was in Schengen: by the sheet's
	// coverage, or its flag column.
	Schengen bool
	// Counts holds the count columns in ECIndicators order: 0 where the
	// layout has no such column (see ECSheet.Has) or the cell is withheld.
	Counts []int64
	// Withheld lists the indicator indexes whose cell held a negative
	// number, published in Issues instead of as a count.
	Withheld []int
}

// ECSheet is the checked content of one data sheet.
type ECSheet struct {
	File string
	Name string
	// Coverage is the sheet's coverage in its layout (ECCoverage*).
	Coverage string
	// Has says, in ECIndicators order, which counts the layout has.
	Has  []bool
	Rows []ECRow
	// Total is the footer row the data rows were reconciled against; its
	// Consulate field holds the label as published. Its counts are as
	// printed, except in the cells of Issues, where they are the sums of
	// the data rows as loaded.
	Total ECRow
	// FootnoteRows counts rows inside the data block that carry text but
	// no State and host country, and no counts: notes, not data.
	FootnoteRows int
	// Issues lists the footer totals that disagree with the data rows and
	// the withheld cells, with what explains each and how it was handled.
	Issues []ECIssue
}

// Cross-check outcomes of an ECIssue.
const (
	CrossCheckConfirmed    = "confirmed"
	CrossCheckContradicted = "contradicted"
	CrossCheckNone         = "not available"
)

// ECIssue is a cell of an EC workbook that disagrees with its data: a
// footer total that differs from the sum of the data rows, or a data cell
// that cannot be a count.
type ECIssue struct {
	// Kind is IssueFooterTotal or IssueNegativeCount.
	Kind      string
	Sheet     string
	Cell      string // e.g. M2042
	Column    string // e.g. M
	Indicator string // e.g. ltv_issued
	// Location is the consulate of a data cell ("ES / SWITZERLAND /
	// ZURICH"), or the footer's label.
	Location string
	// Printed is the cell's value as published; Formula its formula with
	// a leading "=", "" when the cell holds a typed value.
	Printed int64
	Formula string
	// DataRows is, for a footer total, the sum of the column over the data
	// rows as loaded (withheld cells left out).
	DataRows int64
	// Explanation says why the two differ, or that nothing in the file
	// explains it.
	Explanation string
	// CrossCheck compares a second footer total that includes this column
	// (a total of several columns) with the data rows' sums;
	// CrossCheckStatus is one of the CrossCheck* constants.
	CrossCheck       string
	CrossCheckStatus string
	// Handling is one of the Handling* constants; Decision is the
	// maintainer's acceptance (who, when, why), "" when there is none.
	Handling string
	Decision string
}

// ECReadOptions are the choices of ReadECWorkbookOptions.
type ECReadOptions struct {
	// Layouts are the known layouts; required.
	Layouts *ECLayouts
	// Accepted lets exactly these files (by SHA-256) and cells through when
	// their footer total does not reconcile and nothing explains it.
	Accepted []UpstreamAcceptance
	// Limits bound the workbook's size and its sheets; zero means the
	// defaults.
	Limits Limits
}

// ReadECWorkbook reads and checks the data sheets of one EC workbook with
// the given layouts (see ReadECWorkbookOptions).
func ReadECWorkbook(path string, layouts *ECLayouts) (*ECWorkbook, error) {
	return ReadECWorkbookOptions(path, ECReadOptions{Layouts: layouts})
}

// ReadECWorkbookOptions reads an .xlsx or .xls workbook (by its content),
// finds its data sheets (the sheets a layout names) and their layout (from
// the header cells), and checks them: every count cell blank or a whole
// number, and the data rows summing to the sheet's footer total in every
// count column. When a footer total does not reconcile, its formula is
// read: a SUM or SUBTOTAL(9, ...) whose range leaves data rows out, and over
// whose range the data rows sum to the printed total, explains the
// difference; the data rows are then loaded and the discrepancy recorded in
// the sheet's Issues. A difference that nothing explains fails with a
// *LocatedError naming both sums and the formula, unless opt accepts that
// exact file and cell. A negative count is withheld and listed in Issues,
// with the footer total it was part of.
func ReadECWorkbookOptions(path string, opt ECReadOptions) (*ECWorkbook, error) {
	if opt.Layouts == nil {
		return nil, fmt.Errorf("read %s: no EC layouts given", path)
	}
	lim := opt.Limits.WithDefaults()
	book, err := openECBook(path, lim)
	if err != nil {
		return nil, err
	}
	defer book.Close()
	names := book.SheetNames()
	data := opt.Layouts.dataSheets(names)
	if len(data) == 0 {
		return nil, fmt.Errorf("open workbook %s: no sheet %q or any other data sheet of a known layout (sheets: %s; known data sheets: %s); this does not look like an EC \"Visa statistics for consulates\" workbook",
			path, ECSchengenSheet, strings.Join(names, ", "), opt.Layouts.knownSheets())
	}
	wb := &ECWorkbook{File: path}
	var sha string
	footer := &ecFooter{
		formula: book.Formula,
		sha256: func() (string, error) {
			if sha == "" {
				_, sum, err := FileDigest(path)
				if err != nil {
					return "", err
				}
				sha = sum
			}
			return sha, nil
		},
		accepted: opt.Accepted,
	}
	done := map[string]bool{}
	for _, d := range data {
		if done[d.name] {
			continue
		}
		// Every layout that names this sheet is a candidate for its header.
		var candidates []*ECLayout
		var specs = map[*ECLayout]ECLayoutSheet{}
		for _, e := range data {
			if e.name == d.name {
				candidates = append(candidates, e.layout)
				specs[e.layout] = e.spec
			}
		}
		done[d.name] = true
		rows, err := book.Rows(d.name)
		if err != nil {
			return nil, err
		}
		cols, err := opt.Layouts.detect(path, d.name, candidates, rows)
		if err != nil {
			return nil, damagedOr(book, d.name, err)
		}
		if wb.Layout != "" && wb.Layout != cols.layout.Name {
			return nil, &LocatedError{File: path, Sheet: d.name, Line: 1,
				Err: fmt.Errorf("the sheet has the layout %s, another data sheet of the workbook has %s; one workbook has one layout", cols.layout.Name, wb.Layout)}
		}
		wb.Layout = cols.layout.Name
		uncalc, err := book.Uncalculated(d.name)
		if err != nil {
			return nil, err
		}
		sh, err := parseECSheet(path, d.name, rows, cols, specs[cols.layout], uncalc)
		if err != nil {
			return nil, damagedOr(book, d.name, err)
		}
		if err := sh.reconcile(path, rows, cols, footer); err != nil {
			return nil, err
		}
		wb.Sheets = append(wb.Sheets, sh)
	}
	// The sheet of the Schengen States comes first.
	sort.SliceStable(wb.Sheets, func(i, j int) bool {
		return wb.Sheets[i].Coverage != ECCoverageNonSchengen && wb.Sheets[j].Coverage == ECCoverageNonSchengen
	})
	if wb.Sheets[0].Coverage == ECCoverageNonSchengen {
		return nil, fmt.Errorf("read %s: only the data sheet of non-Schengen States (%s) was found; the sheet of the Schengen States is missing (sheets: %s)", path, wb.Sheets[0].Name, strings.Join(names, ", "))
	}
	for _, sh := range wb.Sheets {
		if len(sh.Issues) > 0 && sha == "" {
			if _, err := footer.sha256(); err != nil {
				return nil, err
			}
		}
	}
	wb.SHA256 = sha
	return wb, nil
}

// damagedOr returns err, unless the sheet's XML is broken, which explains
// it better (excelize's iterator stops quietly there).
func damagedOr(book ecBook, sheet string, err error) error {
	if x, ok := book.(*xlsxBook); ok {
		if xerr := x.damaged(sheet); xerr != nil {
			return fmt.Errorf("read %s sheet %q: the sheet is damaged: %w; download the file again or open and save it in Excel or LibreOffice", x.path, sheet, xerr)
		}
	}
	return err
}

// Data returns the sheet of the Schengen States.
func (wb *ECWorkbook) Data() *ECSheet { return wb.Sheets[0] }

// ecFooter gives the reconciliation what the cell values alone do not:
// the footer cells' formulas, the file's hash and the acceptances.
type ecFooter struct {
	formula  func(sheet string, row, col int) (string, error)
	sha256   func() (string, error)
	accepted []UpstreamAcceptance
}

// NormaliseHeader folds the drift seen in EC header cells that carries no
// meaning: case, repeated and non-breaking whitespace, embedded newlines,
// and trailing footnote markers ("1)", "(2)", "*"). Different wordings are
// listed in ec_layout_columns.csv.
func NormaliseHeader(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "\u00a0", " "))
	s = strings.Join(strings.Fields(s), " ")
	for {
		t := strings.TrimSpace(footnoteMarker.ReplaceAllString(s, ""))
		t = strings.TrimSpace(strings.TrimRight(t, "*"))
		if t == s {
			break
		}
		s = t
	}
	return s
}

var footnoteMarker = regexp.MustCompile(`\s*(\(\d{1,2}\)|\d{1,2}\))$`)

func cell(row []string, i int) string {
	if i >= 0 && i < len(row) {
		return row[i]
	}
	return ""
}

func cleanName(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseNumber reads a cell as a finite number.
func parseNumber(s string) (float64, bool) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// isFooterLabel says whether a label starts the footer below the data:
// the sheet's total label, or a total or subtotal of any wording.
func isFooterLabel(label, totalLabel string) bool {
	l := NormaliseHeader(label)
	for _, p := range []string{totalLabel, "total", "selection sub total", "sub total", "subtotal", "share of subtotal"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// parseECSheet reads the data rows of a sheet whose columns are known,
// down to the footer, and its total row. Rows with a State and a host
// country are data; a row without them starts the footer when its label is
// a total, is a note when it has text and no counts, and is an error when
// it has a consulate or counts.
//
// uncalc holds the cells with a formula and no calculated value: such a
// count cell is an error, never a blank read as 0.
func parseECSheet(path, sheet string, rows [][]string, cols *ecColumns, spec ECLayoutSheet, uncalc map[ecCell]bool) (*ECSheet, error) {
	cellErr := func(row int, col int, value string, err error) error {
		e := &LocatedError{File: path, Sheet: sheet, Line: int64(row), Value: value, Err: err}
		if col >= 0 {
			e.Column = colName(col)
			e.Header = cols.header(col)
		}
		return e
	}
	sh := &ECSheet{File: path, Name: sheet, Coverage: spec.Coverage, Has: make([]bool, len(ecIndicators))}
	for k, c := range cols.counts {
		sh.Has[k] = c >= 0
	}
	// parseCounts reads the count cells of a row; withhold says what to do
	// with a negative whole number (data rows: withhold it; footers: keep).
	parseCounts := func(rowNum int, row []string, withhold bool) ([]int64, []int, bool, error) {
		out := make([]int64, len(ecIndicators))
		var withheld []int
		any := false
		for k, ci := range cols.counts {
			if ci < 0 {
				continue
			}
			raw := cell(row, ci)
			if strings.TrimSpace(raw) == "" {
				if uncalc[ecCell{rowNum, ci}] {
					return nil, nil, false, cellErr(rowNum, ci, raw, fmt.Errorf("%w: the cell holds a formula but no calculated value (the workbook was saved by a program that does not calculate formulas, such as openpyxl or pandas); open it in Excel or LibreOffice, let it calculate, and save it again", ErrUncalculated))
				}
				continue // blank means zero in these files
			}
			f, ok := parseNumber(raw)
			if !ok {
				return nil, nil, false, cellErr(rowNum, ci, raw, errors.New("expected a count (a whole number or a blank cell)"))
			}
			any = true
			// Some count cells are formulas whose cached value carries
			// binary floating-point noise (2015: 469.00000000000006).
			r := math.Round(f)
			if math.Abs(f-r) > 1e-6 || !plausibleCount(math.Abs(r)) {
				return nil, nil, false, cellErr(rowNum, ci, raw, ErrImplausibleCount)
			}
			if r < 0 && withhold {
				withheld = append(withheld, k)
			}
			out[k] = int64(r)
		}
		return out, withheld, any, nil
	}
	inFooter := false
	totalFound := false
	for i := cols.headerRows; i < len(rows); i++ {
		rowNum := i + 1
		row := rows[i]
		state, host, cons := cleanName(cell(row, cols.state)), cleanName(cell(row, cols.host)), cleanName(cell(row, cols.consulate))
		if state != "" && host != "" {
			if inFooter {
				return nil, cellErr(rowNum, cols.host, host, errors.New("a data row below the footer totals; expected the data rows above the footer"))
			}
			cs, withheld, _, err := parseCounts(rowNum, row, true)
			if err != nil {
				return nil, err
			}
			r := ECRow{Row: rowNum, State: state, HostCountry: host, Consulate: cons, Counts: cs, Withheld: withheld,
				Schengen: spec.Coverage != ECCoverageNonSchengen}
			if cols.flag >= 0 {
				switch strings.ToLower(strings.TrimSpace(cell(row, cols.flag))) {
				case "yes":
					r.Schengen = true
				case "no":
					r.Schengen = false
				default:
					return nil, cellErr(rowNum, cols.flag, cell(row, cols.flag), errors.New("expected Yes or No (is the State in Schengen)"))
				}
			}
			sh.Rows = append(sh.Rows, r)
			continue
		}
		label := ""
		for _, c := range cols.labels {
			if v := cleanName(cell(row, c)); strings.IndexFunc(v, isLetter) >= 0 {
				label = v
				break
			}
		}
		if label != "" && isFooterLabel(label, spec.TotalLabel) {
			inFooter = true
			if !totalFound && strings.HasPrefix(NormaliseHeader(label), spec.TotalLabel) {
				cs, _, _, err := parseCounts(rowNum, row, false)
				if err != nil {
					return nil, err
				}
				sh.Total = ECRow{Row: rowNum, Consulate: label, Counts: cs}
				totalFound = true
			}
			continue
		}
		if inFooter || cols.isHeader(row) {
			continue // statistics and notes below the footer totals, or the header repeated
		}
		_, _, hasCounts, err := parseCounts(rowNum, row, false)
		if err != nil {
			return nil, err
		}
		if len(sh.Rows) == 0 && !hasCounts {
			continue // blank rows, or the second row of a merged header
		}
		switch {
		case cons != "" || hasCounts:
			col, v := cols.consulate, cons
			if cons == "" {
				col, v = cols.host, ""
				if host != "" {
					col, v = cols.state, ""
				}
			}
			return nil, cellErr(rowNum, col, v, errors.New("the row has a consulate or counts but no Schengen State or host country; expected a data row or a footer label"))
		case state != "" || host != "" || label != "":
			sh.FootnoteRows++ // a note inside the data block
		}
	}
	if len(sh.Rows) == 0 {
		return nil, cellErr(0, -1, "", errors.New("no data rows below the header"))
	}
	if !totalFound {
		return nil, cellErr(0, -1, "", fmt.Errorf("no %q row below the data (its label in one of the name columns); cannot reconcile the data rows", titleCase(spec.TotalLabel)))
	}
	return sh, nil
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127 }

// titleCase writes a normalised label as people read it ("Total worldwide").
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// footerFormula matches a footer total's formula over one column range:
// SUM(M2:M2036) or SUBTOTAL(9,M2:M2036), "=" and "$" anchors optional.
var footerFormula = regexp.MustCompile(`(?i)^=?\s*(?:SUM\(|SUBTOTAL\(\s*(?:9|109)\s*,)\s*\$?([A-Z]{1,3})\$?([0-9]+)\s*:\s*\$?([A-Z]{1,3})\$?([0-9]+)\s*\)\s*$`)

// reconcile compares the data rows' sums, as published, with the footer
// total in every count column. A difference is explained by the footer
// cell's formula (or, when the formula cannot be read, by one block of data
// rows that adds up to it), or accepted, or an error. Then the withheld
// cells are listed and the totals they were part of explained.
func (sh *ECSheet) reconcile(path string, rows [][]string, cols *ecColumns, footer *ecFooter) error {
	sums := make([]int64, len(ecIndicators)) // as published
	for _, r := range sh.Rows {
		for k := range ecIndicators {
			sums[k] += r.Counts[k]
		}
	}
	totalRow := rows[sh.Total.Row-1]
	first, last := sh.Rows[0].Row, sh.Rows[len(sh.Rows)-1].Row
	issueAt := map[int]int{} // indicator -> index in sh.Issues
	for k, ci := range cols.counts {
		if ci < 0 {
			continue
		}
		letter := colName(ci)
		printed, sum := sh.Total.Counts[k], sums[k]
		if printed == sum {
			continue
		}
		cellName := letter + strconv.Itoa(sh.Total.Row)
		is := ECIssue{Kind: IssueFooterTotal, Sheet: sh.Name, Cell: cellName, Column: letter, Indicator: ecIndicators[k],
			Location: sh.Total.Consulate, Printed: printed, DataRows: sum}
		f, err := footer.formula(sh.Name, sh.Total.Row, ci)
		if err != nil {
			return fmt.Errorf("read %s sheet %q cell %s formula: %w", path, sh.Name, cellName, err)
		}
		is.Formula = f
		explained, why := sh.explainFormula(f, k, letter, printed, first, last)
		if !explained && f != "" && !footerFormula.MatchString(f) {
			// A formula that is not a plain sum: the values may still
			// show which rows the printed total covers.
			if ok, w := sh.explainBlock(k, printed); ok {
				explained, why = true, w+" (its formula "+f+" was not read as a plain sum)"
			}
		}
		sha, err := footer.sha256()
		if err != nil {
			return err
		}
		var accepted *UpstreamAcceptance
		for i, a := range footer.accepted {
			if a.SHA256 == sha && a.Sheet == sh.Name && a.Cell == cellName {
				accepted = &footer.accepted[i]
			}
		}
		if !explained && accepted == nil {
			msg := fmt.Sprintf("data rows do not reconcile with %q: they sum to %d, the total row says %d; %s", sh.Total.Consulate, sum, printed, why)
			msg += fmt.Sprintf("; after investigating, a maintainer can accept this file (sha256 %s) and cell %s in the upstream issues file", sha, cellName)
			return &LocatedError{File: path, Sheet: sh.Name, Line: int64(sh.Total.Row), Column: letter, Header: cols.header(ci),
				Value: cell(totalRow, ci), Err: errors.New(msg)}
		}
		if explained {
			is.Explanation = why
			is.Handling = HandlingLoadedDataRows
		} else {
			is.Explanation = "nothing in the file explains it: " + why
		}
		if accepted != nil {
			is.Handling = HandlingAccepted
			is.Decision = fmt.Sprintf("accepted by %s on %s: %s (%s line %d)", accepted.DecidedBy, accepted.Date, accepted.Reason, filepath.Base(accepted.File), accepted.Line)
		}
		is.CrossCheck, is.CrossCheckStatus = crossCheck(sh, k, totalRow, cols, sums, footer)
		issueAt[k] = len(sh.Issues)
		sh.Issues = append(sh.Issues, is)
	}
	// Withheld cells: listed one by one, and the footer total they were
	// part of explained.
	withheld := make([]int64, len(ecIndicators))
	cells := make([][]string, len(ecIndicators))
	for _, r := range sh.Rows {
		for _, k := range r.Withheld {
			ci := cols.counts[k]
			letter := colName(ci)
			v := r.Counts[k]
			withheld[k] += v
			cellName := letter + strconv.Itoa(r.Row)
			cells[k] = append(cells[k], fmt.Sprintf("%s %d", cellName, v))
			sh.Issues = append(sh.Issues, ECIssue{Kind: IssueNegativeCount, Sheet: sh.Name, Cell: cellName, Column: letter, Indicator: ecIndicators[k],
				Location: r.State + " / " + r.HostCountry + " / " + r.Consulate, Printed: v,
				Explanation:      fmt.Sprintf("a count cannot be negative: the cell holds %d; it is withheld (published as empty, not as a count, and not added to any total)", v),
				CrossCheck:       fmt.Sprintf("the footer total %s%d includes it", letter, sh.Total.Row),
				CrossCheckStatus: CrossCheckNone, Handling: HandlingWithheld})
		}
	}
	for i := range sh.Rows {
		for _, k := range sh.Rows[i].Withheld {
			sh.Rows[i].Counts[k] = 0
		}
	}
	for k, ci := range cols.counts {
		if ci < 0 {
			continue
		}
		loaded := sums[k] - withheld[k]
		if withheld[k] != 0 {
			why := fmt.Sprintf("the data rows include %d negative cells (%s; %d in all) that are withheld; without them the data rows sum to %d",
				len(cells[k]), strings.Join(cells[k], ", "), withheld[k], loaded)
			if at, ok := issueAt[k]; ok {
				sh.Issues[at].Explanation += "; " + why
				sh.Issues[at].DataRows = loaded
			} else {
				letter := colName(ci)
				cs, status := crossCheck(sh, k, totalRow, cols, sums, footer)
				f, _ := footer.formula(sh.Name, sh.Total.Row, ci)
				sh.Issues = append(sh.Issues, ECIssue{Kind: IssueFooterTotal, Sheet: sh.Name, Cell: letter + strconv.Itoa(sh.Total.Row), Column: letter,
					Indicator: ecIndicators[k], Location: sh.Total.Consulate, Printed: sh.Total.Counts[k], Formula: f, DataRows: loaded,
					Explanation: fmt.Sprintf("the printed total equals the sum of the data rows as published; %s", why),
					CrossCheck:  cs, CrossCheckStatus: status, Handling: HandlingWithheld})
			}
		}
		// The data rows as loaded are what later checks reconcile.
		sh.Total.Counts[k] = loaded
	}
	sort.SliceStable(sh.Issues, func(i, j int) bool { return sh.Issues[i].Kind < sh.Issues[j].Kind })
	return nil
}

// explainFormula says whether the footer formula f of the count column at
// indicator index k (letter col) explains the printed total: its range
// must leave data rows out (the data block is rows first..last) and the
// data rows inside it must sum to the printed total. The text says why,
// either way.
func (sh *ECSheet) explainFormula(f string, k int, col string, printed int64, first, last int) (bool, string) {
	if f == "" {
		return false, "the cell holds a typed value, not a formula"
	}
	m := footerFormula.FindStringSubmatch(f)
	if m == nil {
		return false, fmt.Sprintf("its formula %s is not a SUM or SUBTOTAL(9, ...) over one column", f)
	}
	if !strings.EqualFold(m[1], col) || !strings.EqualFold(m[3], col) {
		return false, fmt.Sprintf("its formula %s does not sum column %s", f, col)
	}
	from, _ := strconv.Atoi(m[2])
	to, _ := strconv.Atoi(m[4])
	if from > to {
		from, to = to, from
	}
	if from <= first && to >= last {
		return false, fmt.Sprintf("its formula %s covers every data row (%d-%d)", f, first, last)
	}
	var inRange, total int64
	var left []ECRow
	for _, r := range sh.Rows {
		total += r.Counts[k]
		if r.Row >= from && r.Row <= to {
			inRange += r.Counts[k]
		} else {
			left = append(left, r)
		}
	}
	if inRange != printed {
		return false, fmt.Sprintf("its formula %s leaves out data rows, but the data rows in its range sum to %d, not to the printed %d", f, inRange, printed)
	}
	var out []string
	if from > first {
		out = append(out, fmt.Sprintf("rows %d-%d", first, from-1))
	}
	if to < last {
		out = append(out, fmt.Sprintf("rows %d-%d", to+1, last))
	}
	return true, fmt.Sprintf("the footer formula %s sums rows %d-%d only, leaving out %d data rows (%s%s) that hold %d; the data rows inside its range sum to %d, the printed total",
		f, from, to, len(left), strings.Join(out, " and "), rowsWhere(left), total-inRange, inRange)
}

// explainBlock looks for the longest run of consecutive data rows whose
// values of indicator k sum to the printed total, when the footer's
// formula cannot say which rows it covers.
func (sh *ECSheet) explainBlock(k int, printed int64) (bool, string) {
	prefix := make([]int64, len(sh.Rows)+1)
	for i, r := range sh.Rows {
		prefix[i+1] = prefix[i] + r.Counts[k]
	}
	at := map[int64]int{} // prefix value -> first index
	bi, bj := -1, -1
	for j := 0; j <= len(sh.Rows); j++ {
		if i, ok := at[prefix[j]-printed]; ok && j-i > bj-bi {
			bi, bj = i, j
		}
		if _, ok := at[prefix[j]]; !ok {
			at[prefix[j]] = j
		}
	}
	if bi < 0 || bj-bi == len(sh.Rows) {
		return false, ""
	}
	left := append(slices.Clone(sh.Rows[:bi]), sh.Rows[bj:]...)
	return true, fmt.Sprintf("the printed total equals the sum of data rows %d-%d, leaving out %d data rows (%s) that hold %d",
		sh.Rows[bi].Row, sh.Rows[bj-1].Row, len(left), strings.TrimPrefix(rowsWhere(left), ": "), prefix[len(sh.Rows)]-printed)
}

// rowsWhere names the consulates of a few rows: ": ZAMBIA/LUSAKA, ...".
func rowsWhere(rows []ECRow) string {
	var seen []string
	for _, r := range rows {
		w := r.HostCountry + "/" + r.Consulate
		if !slices.Contains(seen, w) {
			seen = append(seen, w)
		}
	}
	if len(seen) == 0 {
		return ""
	}
	more := ""
	if len(seen) > 5 {
		more = fmt.Sprintf(" and %d more", len(seen)-5)
		seen = seen[:5]
	}
	return ": " + strings.Join(seen, ", ") + more
}

// crossCheck compares the footer total of a derived column that adds up
// indicator k with others (Q = E + J + M) with the data rows' sums of its
// parts. The total's cached value is read; its formula is quoted when known.
func crossCheck(sh *ECSheet, k int, totalRow []string, cols *ecColumns, sums []int64, footer *ecFooter) (string, string) {
	for _, d := range cols.derived {
		if !slices.Contains(d.parts, k) {
			continue
		}
		letter := colName(d.col)
		cellName := letter + strconv.Itoa(sh.Total.Row)
		if f, err := footer.formula(sh.Name, sh.Total.Row, d.col); err == nil && f != "" {
			cellName += " (" + f + ")"
		}
		var letters, terms []string
		var want int64
		for _, p := range d.parts {
			letters = append(letters, colName(cols.counts[p]))
			want += sums[p]
			terms = append(terms, strconv.FormatInt(sums[p], 10))
		}
		raw := strings.TrimSpace(cell(totalRow, d.col))
		v, ok := parseNumber(raw)
		if !ok {
			return fmt.Sprintf("%s holds no number (found %q), so %s = %s cannot be checked", cellName, raw, letter, strings.Join(letters, " + ")), CrossCheckNone
		}
		printed := int64(math.Round(v))
		rel := fmt.Sprintf("%s of the data rows (%s = %d)", strings.Join(letters, " + "), strings.Join(terms, " + "), want)
		if printed == want {
			return fmt.Sprintf("%s is %d = %s: the data rows are confirmed", cellName, printed, rel), CrossCheckConfirmed
		}
		return fmt.Sprintf("%s is %d, but %s: the data rows are not confirmed", cellName, printed, rel), CrossCheckContradicted
	}
	return "no other footer total includes column " + colName(cols.counts[k]), CrossCheckNone
}
