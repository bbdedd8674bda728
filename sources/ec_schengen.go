package sources

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
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
	{letter: "P", header: "total atvs and uniform visas applied for", formula: true},
	{letter: "Q", header: "total atvs and uniform visas issued (including multiple atvs, mevs and ltvs)", formula: true},
	{letter: "R", header: "total atvs and uniform visas not issued", formula: true},
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

// CellError is a data problem at one cell of a workbook or CSV file.
type CellError struct {
	File   string
	Sheet  string // "" for text files
	Row    int    // 1-based sheet row, or line of a text file
	Column string // column letter, "" when the problem is the whole row
	Header string // the column's header as expected, for the reader
	Value  string
	Err    error
}

func (e *CellError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Sheet != "":
		fmt.Fprintf(&b, " sheet %q", e.Sheet)
		if e.Row > 0 {
			fmt.Fprintf(&b, " row %d", e.Row)
		}
	case e.Row > 0:
		fmt.Fprintf(&b, " line %d", e.Row)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %s", e.Column)
		if e.Header != "" {
			fmt.Fprintf(&b, " (%s)", e.Header)
		}
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Value != "" {
		fmt.Fprintf(&b, " (found %q)", e.Value)
	}
	return b.String()
}

func (e *CellError) Unwrap() error { return e.Err }

// ErrUnsupportedFormat reports an input in a format visastats cannot read,
// such as a legacy binary .xls workbook.
var ErrUnsupportedFormat = errors.New("unsupported format")

// ECSchengen loads the EC consulate workbooks.
type ECSchengen struct {
	cfg ECSchengenConfig
}

// NewECSchengen returns the source for the EC consulate workbooks.
func NewECSchengen(cfg ECSchengenConfig) *ECSchengen { return &ECSchengen{cfg: cfg} }

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

// Load implements Source: it reads every workbook, checks it, and writes
// raw_ec_schengen_consulates (one row per consulate row of the sheet, counts
// as published with blanks as 0) and raw_ec_schengen_totals (the "Total
// worldwide" row each file was reconciled against).
func (s *ECSchengen) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	inputs, err := s.Inputs(ctx)
	if err != nil {
		return st, err
	}
	for _, ddl := range []string{ecRawDDL, ecTotalsDDL} {
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return st, fmt.Errorf("create ec_schengen_consulates raw tables: %w", err)
		}
	}
	var sheets []*ECSheet
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		sh, err := ReadECWorkbook(in.Path)
		if err != nil {
			return st, err
		}
		sh.Year = in.Year
		sheets = append(sheets, sh)
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
	// Total is the "Total worldwide" footer row; its Consulate field holds
	// the label as published.
	Total ECRow
	// FootnoteRows counts rows inside the data block that carry a note in
	// column A and no host country; they are not data.
	FootnoteRows int
}

var (
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	zipMagic = []byte{'P', 'K', 0x03, 0x04}
)

// ReadECWorkbook reads and checks the data sheet of one EC workbook: the
// header must match the known layout after normalisation, every count cell
// must be blank or a whole non-negative number, and the data rows must sum to
// the file's "Total worldwide" row in every count column.
func ReadECWorkbook(path string) (*ECSheet, error) {
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
	wb, err := excelize.OpenReader(f, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("open workbook %s: the file is damaged or truncated: %w", path, err)
	}
	defer wb.Close()
	if idx, err := wb.GetSheetIndex(ECSchengenSheet); err != nil || idx < 0 {
		return nil, fmt.Errorf("open workbook %s: no sheet %q (sheets: %s); this does not look like an EC \"Visa statistics for consulates\" workbook",
			path, ECSchengenSheet, strings.Join(wb.GetSheetList(), ", "))
	}
	rows, err := wb.GetRows(ECSchengenSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("read %s sheet %q: %w", path, ECSchengenSheet, err)
	}
	return parseECRows(path, rows)
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

func parseECRows(path string, rows [][]string) (*ECSheet, error) {
	cellErr := func(row int, col int, value string, err error) error {
		e := &CellError{File: path, Sheet: ECSchengenSheet, Row: row, Value: value, Err: err}
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
			if f < 0 || math.Abs(f-r) > 1e-6 || f > 1e15 {
				return nil, cellErr(rowNum, ci, raw, errors.New("expected a count (a whole non-negative number)"))
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
	sums := make([]int64, len(counts))
	for _, r := range sh.Rows {
		for k, v := range r.Counts {
			sums[k] += v
		}
	}
	for k, ci := range counts {
		if sums[k] != sh.Total.Counts[k] {
			return nil, cellErr(sh.Total.Row, ci, cell(rows[sh.Total.Row-1], ci),
				fmt.Errorf("data rows do not reconcile with %q: they sum to %d, the total row says %d", sh.Total.Consulate, sums[k], sh.Total.Counts[k]))
		}
	}
	return sh, nil
}
