package sources

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ECSchengenSheet is the worksheet of the EC workbooks that holds one row per
// Schengen State, host country and consulate.
const ECSchengenSheet = "Data for consulates"

// ECSchengenConfig configures the European Commission's yearly "Visa
// statistics for consulates" workbooks.
type ECSchengenConfig struct {
	// Path is a directory (every *.xlsx in it) or one workbook. The year of
	// each file is the only 20xx in its name.
	Path string `mapstructure:"path"`
	// Files lists workbooks with explicit years, for names that do not
	// carry exactly one year.
	Files []ECSchengenFile `mapstructure:"files"`
	// Limits bound what is read from each file; set from the top-level
	// limits configuration, zero means the defaults.
	Limits Limits `mapstructure:"-"`
}

// ECSchengenFile is one workbook with its reference year.
type ECSchengenFile struct {
	Path string `mapstructure:"path"`
	Year int    `mapstructure:"year"`
}

// ecColumn describes one column of the "Data for consulates" sheet.
type ecColumn struct {
	letter string
	// header is the normalised header text (see NormaliseHeader).
	header string
	// indicator is the observations indicator for count columns, "" for
	// text and formula columns.
	indicator string
	formula   bool
	// parts lists the count columns a footer total of this formula column
	// adds up (Q = E + J + M): a second view of the data rows' sums.
	parts []string
}

// ecColumns is the layout shared by the 2014-2024 workbooks, columns A..S.
var ecColumns = []ecColumn{
	{letter: "A", header: "schengen state"},
	{letter: "B", header: "country where consulate is located"},
	{letter: "C", header: "consulate"},
	{letter: "D", header: "airport transit visas (atvs) applied for", indicator: "atv_applied"},
	{letter: "E", header: "atvs issued (including multiple)", indicator: "atv_issued"},
	{letter: "F", header: "multiple atvs issued", indicator: "atv_multiple_issued"},
	{letter: "G", header: "atvs not issued", indicator: "atv_not_issued"},
	{letter: "H", header: "not issued rate for atvs", formula: true},
	{letter: "I", header: "uniform visas applied for", indicator: "uniform_applied"},
	{letter: "J", header: "total uniform visas issued (including mev)", indicator: "uniform_issued"},
	{letter: "K", header: "multiple entry uniform visas (mevs) issued", indicator: "uniform_mev_issued"},
	{letter: "L", header: "share of mevs on total number of uniform visas issued", formula: true},
	{letter: "M", header: "total ltvs issued", indicator: "ltv_issued"},
	{letter: "N", header: "uniform visas not issued", indicator: "uniform_not_issued"},
	{letter: "O", header: "not issued rate for uniform visas", formula: true},
	{letter: "P", header: "total atvs and uniform visas applied for", formula: true, parts: []string{"D", "I"}},
	{letter: "Q", header: "total atvs and uniform visas issued (including multiple atvs, mevs and ltvs)", formula: true, parts: []string{"E", "J", "M"}},
	{letter: "R", header: "total atvs and uniform visas not issued", formula: true, parts: []string{"G", "N"}},
	{letter: "S", header: "not issued rate for atvs and uniform visas", formula: true},
}

// ECIndicators lists the count indicators of the EC workbooks in column order
// (D..N without the formula columns). They are the count columns of
// raw_ec_schengen_consulates.
func ECIndicators() []string {
	var out []string
	for _, c := range ecColumns {
		if c.indicator != "" {
			out = append(out, c.indicator)
		}
	}
	return out
}

// ErrUnsupportedFormat reports an input in a format visastats cannot read,
// such as a legacy binary .xls workbook.
var ErrUnsupportedFormat = errors.New("unsupported format")

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
// year order. Legacy .xls files in a directory are listed so that loading
// them fails loudly instead of skipping them.
func (s *ECSchengen) Inputs(ctx context.Context) ([]Input, error) {
	var out []Input
	if s.cfg.Path != "" {
		paths, err := listFiles(s.cfg.Path, ".xlsx", ".xls")
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			y, err := YearFromFileName(p)
			if err != nil {
				return nil, err
			}
			out = append(out, Input{Path: p, Year: y})
		}
	}
	for _, f := range s.cfg.Files {
		if f.Year < 2000 || f.Year > 2099 {
			return nil, fmt.Errorf("ec_schengen_consulates file %s: year %d is not a 20xx year", f.Path, f.Year)
		}
		out = append(out, Input{Path: f.Path, Year: f.Year})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ec_schengen_consulates: no workbooks configured (set path or files)")
	}
	byYear := map[int]string{}
	for _, in := range out {
		if prev, ok := byYear[in.Year]; ok {
			return nil, fmt.Errorf("ec_schengen_consulates: two workbooks for %d: %s and %s", in.Year, prev, in.Path)
		}
		byYear[in.Year] = in.Path
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	if s.issues.Path != "" {
		// The acceptances decide what loads, so they are an input too.
		out = append(out, Input{Path: s.issues.Path})
	}
	return out, nil
}

// workbooks is Inputs without the acceptance file.
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

const ecRawDDL = `CREATE OR REPLACE TABLE raw_ec_schengen_consulates (
	file VARCHAR NOT NULL, sheet VARCHAR NOT NULL, "row" INTEGER NOT NULL, year INTEGER NOT NULL,
	schengen_state VARCHAR NOT NULL, host_country VARCHAR NOT NULL, consulate VARCHAR NOT NULL,
	atv_applied BIGINT NOT NULL, atv_issued BIGINT NOT NULL, atv_multiple_issued BIGINT NOT NULL,
	atv_not_issued BIGINT NOT NULL, uniform_applied BIGINT NOT NULL, uniform_issued BIGINT NOT NULL,
	uniform_mev_issued BIGINT NOT NULL, ltv_issued BIGINT NOT NULL, uniform_not_issued BIGINT NOT NULL)`

const ecTotalsDDL = `CREATE OR REPLACE TABLE raw_ec_schengen_totals (
	file VARCHAR NOT NULL, sheet VARCHAR NOT NULL, "row" INTEGER NOT NULL, year INTEGER NOT NULL,
	label VARCHAR NOT NULL, data_rows INTEGER NOT NULL,
	atv_applied BIGINT NOT NULL, atv_issued BIGINT NOT NULL, atv_multiple_issued BIGINT NOT NULL,
	atv_not_issued BIGINT NOT NULL, uniform_applied BIGINT NOT NULL, uniform_issued BIGINT NOT NULL,
	uniform_mev_issued BIGINT NOT NULL, ltv_issued BIGINT NOT NULL, uniform_not_issued BIGINT NOT NULL)`

const ecIssuesDDL = `CREATE OR REPLACE TABLE raw_ec_schengen_issues (
	file VARCHAR NOT NULL, file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, year INTEGER NOT NULL,
	sheet VARCHAR NOT NULL, cell VARCHAR NOT NULL, "column" VARCHAR NOT NULL, indicator VARCHAR NOT NULL,
	printed_total BIGINT NOT NULL, printed_formula VARCHAR NOT NULL, data_rows_total BIGINT NOT NULL,
	explanation VARCHAR NOT NULL, cross_check VARCHAR NOT NULL, cross_check_status VARCHAR NOT NULL,
	handling VARCHAR NOT NULL, decision VARCHAR NOT NULL)`

// Load implements Source: it reads every workbook, checks it, and writes
// raw_ec_schengen_consulates (one row per consulate row of the sheet, counts
// as published with blanks as 0), raw_ec_schengen_totals (the "Total
// worldwide" row each file was reconciled against: as printed, except in
// the cells of raw_ec_schengen_issues, where it is the data rows' sum) and
// raw_ec_schengen_issues (footer totals that disagree with the data rows,
// with what explains them). An acceptance for a loaded workbook that names
// a cell without a discrepancy is an error (it is mistyped); one for a file
// that is not loaded (replaced by a corrected one) lets nothing through and
// stops nothing.
func (s *ECSchengen) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	inputs, err := s.workbooks(ctx)
	if err != nil {
		return st, err
	}
	accepted, err := ReadUpstreamAcceptances(s.issues.Path)
	if err != nil {
		return st, err
	}
	for _, ddl := range []string{ecRawDDL, ecTotalsDDL, ecIssuesDDL} {
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return st, fmt.Errorf("create ec_schengen_consulates raw tables: %w", err)
		}
	}
	var sheets []*ECSheet
	used := map[string]bool{}
	shas := map[string]string{} // sha256 -> workbook
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		sh, err := ReadECWorkbookOptions(in.Path, ECReadOptions{Accepted: accepted, Limits: s.cfg.Limits})
		if err != nil {
			return st, err
		}
		sh.Year = in.Year
		sheets = append(sheets, sh)
		for _, is := range sh.Issues {
			if is.Handling == HandlingAccepted {
				used[UpstreamAcceptance{SHA256: sh.SHA256, Sheet: is.Sheet, Cell: is.Cell}.key()] = true
			}
		}
		if sh.SHA256 == "" && len(accepted) > 0 {
			if _, sh.SHA256, err = FileDigest(in.Path); err != nil {
				return st, err
			}
		}
		shas[sh.SHA256] = in.Path
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
	n, err := appendRows(ctx, conn, "raw_ec_schengen_consulates", func(add func(...driver.Value) error) error {
		for _, sh := range sheets {
			for _, r := range sh.Rows {
				vals := []driver.Value{sh.File, ECSchengenSheet, int32(r.Row), int32(sh.Year), r.State, r.HostCountry, r.Consulate}
				for _, c := range r.Counts {
					vals = append(vals, c)
				}
				if err := add(vals...); err != nil {
					return fmt.Errorf("load %s row %d: %w", sh.File, r.Row, err)
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
		for _, sh := range sheets {
			vals := []driver.Value{sh.File, ECSchengenSheet, int32(sh.Total.Row), int32(sh.Year), sh.Total.Consulate, int32(len(sh.Rows))}
			for _, c := range sh.Total.Counts {
				vals = append(vals, c)
			}
			if err := add(vals...); err != nil {
				return fmt.Errorf("load %s totals: %w", sh.File, err)
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.add("raw_ec_schengen_totals", n)
	n, err = appendRows(ctx, conn, "raw_ec_schengen_issues", func(add func(...driver.Value) error) error {
		for _, sh := range sheets {
			for _, is := range sh.Issues {
				if err := add(sh.File, filepath.Base(sh.File), sh.SHA256, int32(sh.Year), is.Sheet, is.Cell, is.Column, is.Indicator,
					is.Printed, is.Formula, is.DataRows, is.Explanation, is.CrossCheck, is.CrossCheckStatus, is.Handling, is.Decision); err != nil {
					return fmt.Errorf("load %s issue at %s: %w", sh.File, is.Cell, err)
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

// ECRow is one data row of the "Data for consulates" sheet.
type ECRow struct {
	Row         int
	State       string
	HostCountry string
	Consulate   string
	// Counts holds the count columns in ECIndicators order.
	Counts []int64
}

// ECSheet is the checked content of one workbook's data sheet.
type ECSheet struct {
	File string
	Year int
	Rows []ECRow
	// Total is the "Total worldwide" footer row the data rows were
	// reconciled against; its Consulate field holds the label as published.
	// Its counts are as printed, except in the cells of Issues, where they
	// are the data rows' sums.
	Total ECRow
	// FootnoteRows counts rows inside the data block that carry a note in
	// column A and no host country; they are not data.
	FootnoteRows int
	// Issues lists the footer totals that disagree with the data rows,
	// with what explains each and how it was handled.
	Issues []ECIssue
	// SHA256 is the file's hex SHA-256, set when it was needed (a
	// discrepancy was found, or acceptances were given).
	SHA256 string
}

// Cross-check outcomes of an ECIssue.
const (
	CrossCheckConfirmed    = "confirmed"
	CrossCheckContradicted = "contradicted"
	CrossCheckNone         = "not available"
)

// ECIssue is a footer total of an EC workbook that disagrees with the sum
// of the data rows above it, with what explains it and what was done.
type ECIssue struct {
	Sheet     string
	Cell      string // e.g. M2042
	Column    string // e.g. M
	Indicator string // e.g. ltv_issued
	// Printed is the footer cell's value as published; Formula its formula
	// with a leading "=", "" when the cell holds a typed value.
	Printed int64
	Formula string
	// DataRows is the sum of the column over every data row.
	DataRows int64
	// Explanation says why the two differ, or that nothing in the file
	// explains it.
	Explanation string
	// CrossCheck compares a second footer total that includes this column
	// (Q = E + J + M, P = D + I, R = G + N) with the data rows' sums;
	// CrossCheckStatus is one of the CrossCheck* constants.
	CrossCheck       string
	CrossCheckStatus string
	// Handling is HandlingLoadedDataRows or HandlingAccepted; Decision is the
	// maintainer's acceptance (who, when, why), "" when there is none.
	Handling string
	Decision string
}

// ECReadOptions are the choices of ReadECWorkbookOptions.
type ECReadOptions struct {
	// Accepted lets exactly these files (by SHA-256) and cells through when
	// their footer total does not reconcile and nothing explains it.
	Accepted []UpstreamAcceptance
	// Limits bound the workbook's unzipped size and its sheet; zero
	// means the defaults.
	Limits Limits
}

var (
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	zipMagic = []byte{'P', 'K', 0x03, 0x04}
)

// ReadECWorkbook reads and checks the data sheet of one EC workbook: the
// header must match the known layout after normalisation, every count cell
// must be blank or a whole non-negative number, and the data rows must sum to
// the file's "Total worldwide" row in every count column, unless the footer
// cell's own formula explains the difference (see ReadECWorkbookOptions).
func ReadECWorkbook(path string) (*ECSheet, error) {
	return ReadECWorkbookOptions(path, ECReadOptions{})
}

// ReadECWorkbookOptions is ReadECWorkbook with acceptances. When a footer
// total does not reconcile, its formula is read: a SUM or SUBTOTAL(9, ...)
// whose range leaves data rows out, and over whose range the data rows sum
// to the printed total, explains the difference; the data rows are then
// loaded and the discrepancy recorded in ECSheet.Issues. A difference that
// nothing explains fails with a *LocatedError naming both sums and the
// formula, unless opt accepts that exact file and cell.
func ReadECWorkbookOptions(path string, opt ECReadOptions) (*ECSheet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open workbook %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return nil, fmt.Errorf("open workbook %s: %w: this is a legacy binary .xls workbook (or an encrypted one); open it in Excel or LibreOffice and save it as .xlsx", path, ErrUnsupportedFormat)
	case !bytes.HasPrefix(head, zipMagic):
		return nil, fmt.Errorf("open workbook %s: %w: not an .xlsx workbook (an .xlsx file is a zip container; this one starts with %q)", path, ErrUnsupportedFormat, head)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("open workbook %s: %w", path, err)
	}
	lim := opt.Limits.WithDefaults()
	// Parts larger than the XML limit are unzipped to a temporary file
	// and read from there as a stream, not held in memory; the size limit
	// refuses a workbook whose parts unzip to more than lim allows, as
	// declared by the zip (archive/zip fails a part that outgrows it).
	wb, err := excelize.OpenReader(f, excelize.Options{RawCellValue: true,
		UnzipSizeLimit: lim.MaxWorkbookBytes, UnzipXMLSizeLimit: min(lim.MaxWorkbookBytes, 16<<20)})
	if err != nil {
		return nil, ecOpenError(path, err, lim)
	}
	defer wb.Close()
	if idx, err := wb.GetSheetIndex(ECSchengenSheet); err != nil || idx < 0 {
		return nil, fmt.Errorf("open workbook %s: no sheet %q (sheets: %s); this does not look like an EC \"Visa statistics for consulates\" workbook",
			path, ECSchengenSheet, strings.Join(wb.GetSheetList(), ", "))
	}
	rows, err := ecSheetRows(wb, path, lim)
	if err != nil {
		return nil, err
	}
	var sha string
	footer := &ecFooter{
		formula: func(cell string) (string, error) { return wb.GetCellFormula(ECSchengenSheet, cell) },
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
	sh, err := parseECSheet(path, rows, footer)
	if err != nil {
		// excelize's row iterator stops quietly at broken XML, which
		// then looks like a short or empty sheet: say so instead.
		if xerr := ecSheetXMLError(path); xerr != nil {
			return nil, fmt.Errorf("read %s sheet %q: the sheet is damaged: %w; download the file again or open and save it in Excel or LibreOffice", path, ECSchengenSheet, xerr)
		}
		return nil, err
	}
	sh.SHA256 = sha
	return sh, nil
}

// ecFooter gives the reconciliation what the cell values alone do not:
// the footer cells' formulas, the file's hash and the acceptances.
type ecFooter struct {
	formula  func(cell string) (string, error)
	sha256   func() (string, error)
	accepted []UpstreamAcceptance
}

// NormaliseHeader folds the drift seen in EC header cells: case, repeated
// and non-breaking whitespace, embedded newlines, trailing footnote markers
// ("1)", "(2)", "*") and later wordings ("short-stay visas" for "uniform
// visas", "Member State" for "Schengen State").
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
	s = strings.ReplaceAll(s, "short-stay visas", "uniform visas")
	s = strings.ReplaceAll(s, "short stay visas", "uniform visas")
	if s == "member state" {
		s = "schengen state"
	}
	return s
}

var footnoteMarker = regexp.MustCompile(`\s*(\(\d{1,2}\)|\d{1,2}\))$`)

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

func cleanName(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseECRows parses and reconciles a data sheet from its cell values
// alone: a footer total that does not reconcile is an error.
func parseECRows(path string, rows [][]string) (*ECSheet, error) {
	return parseECSheet(path, rows, nil)
}

func parseECSheet(path string, rows [][]string, footer *ecFooter) (*ECSheet, error) {
	cellErr := func(row int, col int, value string, err error) error {
		e := &LocatedError{File: path, Sheet: ECSchengenSheet, Line: int64(row), Value: value, Err: err}
		if col >= 0 {
			e.Column = ecColumns[col].letter
			e.Header = ecColumns[col].header
		}
		return e
	}
	if len(rows) == 0 {
		return nil, cellErr(1, -1, "", errors.New("the sheet is empty; expected a header row"))
	}
	for i, c := range ecColumns {
		if NormaliseHeader(cell(rows[0], i)) != c.header {
			return nil, cellErr(1, i, cell(rows[0], i), fmt.Errorf("unexpected header: the layout has changed; expected %q", c.header))
		}
	}
	sh := &ECSheet{File: path}
	var counts []int
	for i, c := range ecColumns {
		if c.indicator != "" {
			counts = append(counts, i)
		}
	}
	parseCounts := func(rowNum int, row []string) ([]int64, error) {
		out := make([]int64, len(counts))
		for k, ci := range counts {
			raw := cell(row, ci)
			v := strings.TrimSpace(raw)
			if v == "" {
				continue // blank means zero in these files
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, cellErr(rowNum, ci, raw, errors.New("expected a count (a whole number or a blank cell)"))
			}
			// Some count cells are formulas whose cached value carries
			// binary floating-point noise (2015: 469.00000000000006).
			r := math.Round(f)
			if f < 0 || math.Abs(f-r) > 1e-6 || !plausibleCount(r) {
				return nil, cellErr(rowNum, ci, raw, ErrImplausibleCount)
			}
			out[k] = int64(r)
		}
		return out, nil
	}
	inFooter := false
	totalFound := false
	for i := 1; i < len(rows); i++ {
		rowNum := i + 1
		row := rows[i]
		a, b, c := cleanName(cell(row, 0)), cleanName(cell(row, 1)), cleanName(cell(row, 2))
		if a == "" && b == "" {
			label := strings.ToLower(c)
			switch {
			case strings.HasPrefix(label, "total worldwide"):
				cs, err := parseCounts(rowNum, row)
				if err != nil {
					return nil, err
				}
				sh.Total = ECRow{Row: rowNum, Consulate: c, Counts: cs}
				totalFound = true
				inFooter = true
			case strings.HasPrefix(label, "selection sub total"), strings.HasPrefix(label, "share of subtotal"):
				inFooter = true
			case c == "":
				// blank separator row, or the stray formula column T of the footer area
			default:
				if !inFooter {
					return nil, cellErr(rowNum, 2, cell(row, 2), errors.New("row has a consulate but no Schengen State or host country; expected a data row or a footer label"))
				}
			}
			continue
		}
		if inFooter {
			continue // notes below the footer
		}
		if b == "" {
			sh.FootnoteRows++ // a note inside the data block: text in A, nothing in B
			continue
		}
		if a == "" {
			return nil, cellErr(rowNum, 0, "", fmt.Errorf("data row for %q has no Schengen State", b))
		}
		cs, err := parseCounts(rowNum, row)
		if err != nil {
			return nil, err
		}
		sh.Rows = append(sh.Rows, ECRow{Row: rowNum, State: a, HostCountry: b, Consulate: c, Counts: cs})
	}
	if len(sh.Rows) == 0 {
		return nil, cellErr(0, -1, "", errors.New("no data rows below the header"))
	}
	if !totalFound {
		return nil, cellErr(0, -1, "", errors.New("no \"Total worldwide\" row below the data (label in column C); cannot reconcile the data rows"))
	}
	if err := sh.reconcile(path, rows, counts, footer); err != nil {
		return nil, err
	}
	return sh, nil
}

// footerFormula matches a footer total's formula over one column range:
// SUM(M2:M2036) or SUBTOTAL(9,M2:M2036), "=" and "$" anchors optional.
var footerFormula = regexp.MustCompile(`(?i)^=?\s*(?:SUM\(|SUBTOTAL\(\s*(?:9|109)\s*,)\s*\$?([A-Z]{1,3})\$?([0-9]+)\s*:\s*\$?([A-Z]{1,3})\$?([0-9]+)\s*\)\s*$`)

// reconcile compares the data rows' sums with the footer total in every
// count column (counts holds their indexes in ecColumns). A difference is
// explained by the footer cell's formula, or accepted, or an error.
func (sh *ECSheet) reconcile(path string, rows [][]string, counts []int, footer *ecFooter) error {
	sums := map[string]int64{} // by column letter
	for k, ci := range counts {
		for _, r := range sh.Rows {
			sums[ecColumns[ci].letter] += r.Counts[k]
		}
	}
	totalRow := rows[sh.Total.Row-1]
	first, last := sh.Rows[0].Row, sh.Rows[len(sh.Rows)-1].Row
	for k, ci := range counts {
		col := ecColumns[ci]
		printed, sum := sh.Total.Counts[k], sums[col.letter]
		if printed == sum {
			continue
		}
		cellName := col.letter + strconv.Itoa(sh.Total.Row)
		is := ECIssue{Sheet: ECSchengenSheet, Cell: cellName, Column: col.letter, Indicator: col.indicator, Printed: printed, DataRows: sum}
		explained := false
		why := "its formula was not read"
		if footer != nil {
			f, err := footer.formula(cellName)
			if err != nil {
				return fmt.Errorf("read %s sheet %q cell %s formula: %w", path, ECSchengenSheet, cellName, err)
			}
			if f != "" && !strings.HasPrefix(f, "=") {
				f = "=" + f
			}
			is.Formula = f
			explained, why = sh.explainFormula(f, k, col.letter, printed, first, last)
		}
		var accepted *UpstreamAcceptance
		sha := ""
		if footer != nil {
			var err error
			if sha, err = footer.sha256(); err != nil {
				return err
			}
			for i, a := range footer.accepted {
				if a.SHA256 == sha && a.Sheet == ECSchengenSheet && a.Cell == cellName {
					accepted = &footer.accepted[i]
				}
			}
		}
		if !explained && accepted == nil {
			msg := fmt.Sprintf("data rows do not reconcile with %q: they sum to %d, the total row says %d; %s", sh.Total.Consulate, sum, printed, why)
			if sha != "" {
				msg += fmt.Sprintf("; after investigating, a maintainer can accept this file (sha256 %s) and cell %s in the upstream issues file", sha, cellName)
			}
			return &LocatedError{File: path, Sheet: ECSchengenSheet, Line: int64(sh.Total.Row), Column: col.letter, Header: col.header,
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
		is.CrossCheck, is.CrossCheckStatus = crossCheck(col.letter, totalRow, sh.Total.Row, sums, footer)
		sh.Issues = append(sh.Issues, is)
		// The data rows are what is loaded and what later checks reconcile.
		sh.Total.Counts[k] = sum
	}
	return nil
}

// explainFormula says whether the footer formula f of the count column at
// index k (letter col) explains the printed total: its range must leave
// data rows out (the data block is rows first..last) and the data rows
// inside it must sum to the printed total. The text says why, either way.
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
	var inRange int64
	var left []int
	for _, r := range sh.Rows {
		if r.Row >= from && r.Row <= to {
			inRange += r.Counts[k]
		} else {
			left = append(left, r.Row)
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
	var total int64
	for _, r := range sh.Rows {
		total += r.Counts[k]
	}
	return true, fmt.Sprintf("the footer formula %s sums rows %d-%d only, leaving out %d data rows (%s) that hold %d; the data rows inside its range sum to %d, the printed total",
		f, from, to, len(left), strings.Join(out, " and "), total-inRange, inRange)
}

// crossCheck compares the footer total of the formula column that adds up
// col (Q = E + J + M, P = D + I, R = G + N) with the data rows' sums of its
// parts. The total's cached value is read; its formula is quoted when known.
func crossCheck(col string, totalRow []string, row int, sums map[string]int64, footer *ecFooter) (string, string) {
	for i, c := range ecColumns {
		if !slices.Contains(c.parts, col) {
			continue
		}
		cellName := c.letter + strconv.Itoa(row)
		if footer != nil {
			if f, err := footer.formula(cellName); err == nil && f != "" {
				cellName += " (=" + strings.TrimPrefix(f, "=") + ")"
			}
		}
		raw := strings.TrimSpace(cell(totalRow, i))
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("%s holds no number (found %q), so %s = %s cannot be checked", cellName, raw, c.letter, strings.Join(c.parts, " + ")), CrossCheckNone
		}
		printed := int64(math.Round(v))
		var want int64
		var terms []string
		for _, p := range c.parts {
			want += sums[p]
			terms = append(terms, strconv.FormatInt(sums[p], 10))
		}
		rel := fmt.Sprintf("%s of the data rows (%s = %d)", strings.Join(c.parts, " + "), strings.Join(terms, " + "), want)
		if printed == want {
			return fmt.Sprintf("%s is %d = %s: the data rows are confirmed", cellName, printed, rel), CrossCheckConfirmed
		}
		return fmt.Sprintf("%s is %d, but %s: the data rows are not confirmed", cellName, printed, rel), CrossCheckContradicted
	}
	return "no other footer total includes column " + col, CrossCheckNone
}

// ecOpenError says what is wrong with a file excelize cannot open: too
// large once unzipped, a zip that is not a workbook, or a damaged file.
func ecOpenError(path string, err error, lim Limits) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unzip size exceeds"):
		return fmt.Errorf("open workbook %s: %w", path, &LimitError{What: "the unzipped workbook", Max: lim.MaxWorkbookBytes, Unit: "bytes", Key: "limits.max_workbook_bytes"})
	case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("open workbook %s: the file is damaged or truncated (%v); download it again", path, err)
	case errors.Is(err, io.EOF) || strings.Contains(msg, "no such file") || strings.Contains(msg, "does not exist"):
		return fmt.Errorf("open workbook %s: %w: a zip file, but not an .xlsx workbook (it lacks the workbook parts, such as xl/workbook.xml): %v", path, ErrUnsupportedFormat, err)
	}
	return fmt.Errorf("open workbook %s: %w", path, err)
}

// ecSheetRows reads the data sheet's cell values row by row through
// excelize's streaming iterator, refusing a sheet with more rows, a row
// with more cells, or a cell longer than lim allows. Gaps of empty rows
// are kept as empty rows so that indexes stay sheet rows minus one.
func ecSheetRows(wb *excelize.File, path string, lim Limits) ([][]string, error) {
	it, err := wb.Rows(ECSchengenSheet)
	if err != nil {
		return nil, fmt.Errorf("read %s sheet %q: the sheet cannot be read (%v); the workbook may be damaged, open and save it again in Excel or LibreOffice", path, ECSchengenSheet, err)
	}
	defer it.Close()
	var rows [][]string
	for n := 1; it.Next(); n++ {
		if n > lim.MaxSheetRows {
			return nil, &LocatedError{File: path, Sheet: ECSchengenSheet, Line: int64(n),
				Err: &LimitError{What: "the sheet", Max: int64(lim.MaxSheetRows), Unit: "rows", Key: "limits.max_sheet_rows"}}
		}
		row, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, &LocatedError{File: path, Sheet: ECSchengenSheet, Line: int64(n), Err: fmt.Errorf("the row cannot be read (%v); the workbook may be damaged", err)}
		}
		if len(row) > lim.MaxSheetColumns {
			return nil, &LocatedError{File: path, Sheet: ECSchengenSheet, Line: int64(n),
				Err: &LimitError{What: "the row", Max: int64(lim.MaxSheetColumns), Unit: "cells", Key: "limits.max_sheet_columns"}}
		}
		for i, c := range row {
			if len(c) > lim.MaxCellBytes {
				col, _ := excelize.ColumnNumberToName(i + 1)
				return nil, &LocatedError{File: path, Sheet: ECSchengenSheet, Line: int64(n), Column: col,
					Err: &LimitError{What: "the cell", Max: int64(lim.MaxCellBytes), Unit: "bytes", Key: "limits.max_cell_bytes"}}
			}
		}
		rows = append(rows, row)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("read %s sheet %q: the sheet is damaged (%v); open and save it again in Excel or LibreOffice", path, ECSchengenSheet, err)
	}
	// GetRows drops trailing empty rows; so does the reader.
	for len(rows) > 0 && len(rows[len(rows)-1]) == 0 {
		rows = rows[:len(rows)-1]
	}
	return rows, nil
}

// ecSheetXMLError reads the data sheet's XML part of the workbook at path
// through to its end and returns the first XML syntax error, or nil when
// the part is well-formed (or cannot be found: other checks say so).
func ecSheetXMLError(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil
	}
	defer zr.Close()
	open := func(name string) (io.ReadCloser, error) { return zr.Open(strings.TrimPrefix(name, "/")) }
	var wbXML struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	for name, v := range map[string]any{"xl/workbook.xml": &wbXML, "xl/_rels/workbook.xml.rels": &rels} {
		rc, err := open(name)
		if err != nil {
			return nil
		}
		err = xml.NewDecoder(rc).Decode(v)
		rc.Close()
		if err != nil {
			return nil
		}
	}
	part := ""
	for _, sh := range wbXML.Sheets {
		if sh.Name == ECSchengenSheet {
			for _, r := range rels.Rels {
				if r.ID == sh.ID {
					part = r.Target
					if !strings.HasPrefix(part, "/") {
						part = "xl/" + part
					}
				}
			}
		}
	}
	if part == "" {
		return nil
	}
	rc, err := open(part)
	if err != nil {
		return nil
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		_, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", part, err)
		}
	}
}
