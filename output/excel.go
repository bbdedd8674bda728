package output

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/output/plot"
)

// ExcelMaxRows is the number of rows a worksheet can hold, header included.
const ExcelMaxRows = 1048576

// ChartMaxRows is the most rows a chart sheet's query may return: a chart
// of more points than this is unreadable, and the sheet is written in
// memory rather than streamed.
const ChartMaxRows = 1000

// ErrTooManyRows reports a table that does not fit in one worksheet. It is
// never truncated silently.
var ErrTooManyRows = errors.New("table exceeds Excel's 1,048,576 rows per sheet")

// Format says how a column's cells are shown in a workbook.
type Format string

// Cell formats.
const (
	FormatText    Format = "text"    // text, e.g. a city or a country name
	FormatCode    Format = "code"    // short code, e.g. ISO country code or flags
	FormatYear    Format = "year"    // integer without thousands separator
	FormatInteger Format = "integer" // small integer without separator
	FormatCount   Format = "count"   // integer with thousands separator
	FormatNumber  Format = "number"  // decimal with thousands separator
	FormatRate    Format = "rate"    // fraction shown as a percentage
	FormatChange  Format = "change"  // signed fraction shown as a percentage
	FormatDate    Format = "date"    // calendar date shown as 2006-01-02
)

// Valid reports whether f is one of the formats above.
func (f Format) Valid() bool {
	switch f {
	case FormatText, FormatCode, FormatYear, FormatInteger, FormatCount, FormatNumber, FormatRate, FormatChange, FormatDate:
		return true
	}
	return false
}

// Column is one column of a table or chart sheet.
type Column struct {
	// Header is the column's technical name, as in the Parquet and CSV
	// files; the Definitions list it beside the label.
	Header string
	// Label, when set, is the readable header shown in the sheet instead
	// of Header, e.g. "Applications lodged". Labels of one sheet must
	// differ, because an Excel table names its columns by their headers.
	Label  string
	Format Format
}

// title is what the header cell shows.
func (c Column) title() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Header
}

// Overflow says what happens to a table with more rows than a worksheet
// holds.
type Overflow string

// Overflow policies.
const (
	// OverflowError fails the workbook with ErrTooManyRows. It is the
	// policy of a TableSheet that sets none.
	OverflowError Overflow = "error"
	// OverflowSplit continues the table on sheets "Name (2)", "Name (3)",
	// ..., each with the header row, and says so on the About sheet.
	OverflowSplit Overflow = "split"
)

// TableSheet is one sheet holding a table, filled from the rows of Query,
// whose columns match Columns in order. Query is called when the sheet is
// written and its rows are closed afterwards.
type TableSheet struct {
	Name    string
	Columns []Column
	Query   func(ctx context.Context) (*sql.Rows, error)
	// Overflow is the policy for more rows than a sheet holds; empty
	// means OverflowError.
	Overflow Overflow
	// Description says what the sheet holds, for the Contents sheet.
	Description string
	// Note, when set, is a line above the table saying what the sheet
	// leaves out and where the rest is, e.g. a bounded selection of a
	// table published in full as CSV and Parquet.
	Note string
	// KeyColumns is how many leading columns identify a row (codes,
	// names, year); they repeat on every printed page with the header.
	KeyColumns int
	// Present, when set, is called on every row before it is written: it
	// may rewrite a value for people (a status code in words) and set the
	// number format of a cell whose format depends on the row (an Excel
	// format code in formats[i]; "" keeps the column's format). The rows
	// arrive as cellValue makes them: int64, float64, string or nil.
	Present func(row []any, formats []string)
}

// ChartKind is the kind of a native Excel chart.
type ChartKind string

// Chart kinds.
const (
	ChartLine   ChartKind = "line"
	ChartColumn ChartKind = "column"
)

// ChartSheet is a sheet with a small table and a native Excel chart drawn
// from its cells, e.g. "Applications lodged at Schengen consulates located
// in Russia, by year". The first of Columns gives the categories (the x
// axis), every other column one series; Query returns at most ChartMaxRows
// rows in the order they are drawn.
//
// The table and the chart share a sheet because a chart cannot be added to
// a streamed sheet: excelize v2.11.1 drops the drawing of a sheet written
// through a StreamWriter, so chart sheets are written in memory.
type ChartSheet struct {
	Name    string
	Title   string // the chart's title: what is counted, where, when
	Kind    ChartKind
	Columns []Column
	Query   func(ctx context.Context) (*sql.Rows, error)
}

// DefinitionsPlacement says where a workbook documents its columns.
type DefinitionsPlacement string

// Definitions placements.
const (
	// DefinitionsOnAbout lists the definitions at the end of the About
	// sheet. It is the placement of WorkbookOptions that set none.
	DefinitionsOnAbout DefinitionsPlacement = "about"
	// DefinitionsOnSheet lists them on their own sheet, DefinitionsSheet,
	// after About, with the label and formula of every column.
	DefinitionsOnSheet DefinitionsPlacement = "sheet"
)

// DefinitionsSheet is the name of the sheet DefinitionsOnSheet writes.
const DefinitionsSheet = "Definitions"

// WorkbookOptions holds what a workbook may have beyond the About sheet
// and its tables.
type WorkbookOptions struct {
	// Definitions places the column definitions; empty means
	// DefinitionsOnAbout.
	Definitions DefinitionsPlacement
	// Charts are written after the first table, before the others.
	Charts []ChartSheet
	// ChartGroups are sheets of several charts each (a country's profile
	// charts), written after Charts.
	ChartGroups []ChartsSheet
	// Created is when the workbook's data were made (the release time),
	// for its document properties; zero means now.
	Created time.Time
}

// ContentsSheet is the name of the first sheet of every workbook: each
// sheet, what it holds and its rows.
const ContentsSheet = "Contents"

// aboutDescription and definitionsDescription say on the Contents sheet
// what the About and Definitions sheets hold.
const (
	aboutDescription       = "What the data are, where they come from, their licences, what the sheets leave out, and how to cite them"
	definitionsDescription = "Every column of every sheet: its label, technical name, meaning (for a computed column, how it is computed) and unit"
)

// AboutSheet is the first sheet of a workbook: what the data is, where it
// comes from and what every column means.
type AboutSheet struct {
	Title      string
	Paragraphs []string
	Facts      [][2]string // label, value: release, generated at, ...
	Sources    []SourceNote
	// Sections are short titled tables after the sources, such as the
	// discrepancies found in the upstream files.
	Sections    []AboutSection
	Definitions []Definition
}

// AboutSection is a short titled table on the About sheet.
type AboutSection struct {
	Heading string
	// Columns are the headers of up to four columns.
	Columns []string
	// Rows hold one item each, a cell per column.
	Rows [][]string
	// Empty is the line shown instead of the table when there are no rows,
	// e.g. "None found."
	Empty string
}

// SourceNote describes one upstream source on the About sheet.
type SourceNote struct {
	Name, Publisher, URL, Licence, Files string
}

// Definition documents one column of a table sheet. Label may be left
// empty: it is then taken from the sheet's Column of the same Header.
type Definition struct {
	Sheet, Column, Unit, Meaning string
	Label                        string // the header shown in the sheet
	Formula                      string // how the number is computed, e.g. "D + I (EC column P)"
}

type styles struct {
	title, heading, wrap, header, link, count int
	byFormat                                  map[Format]int
	byCode                                    map[string]int // custom number formats, top-aligned
}

// custom is the style of a cell shown with the number format code.
func (s *styles) custom(f *excelize.File, code string) (int, error) {
	if id, ok := s.byCode[code]; ok {
		return id, nil
	}
	id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code, Alignment: &excelize.Alignment{Vertical: "top"}})
	if err != nil {
		return 0, fmt.Errorf("number format %q: %w", code, err)
	}
	s.byCode[code] = id
	return id, nil
}

func newStyles(f *excelize.File) (*styles, error) {
	s := &styles{byFormat: map[Format]int{}, byCode: map[string]int{}}
	var err error
	add := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	s.title = add(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}})
	s.heading = add(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}})
	s.wrap = add(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	s.link = add(&excelize.Style{Font: &excelize.Font{Color: "1F4E9E", Underline: "single"}, Alignment: &excelize.Alignment{Vertical: "top"}})
	s.header = add(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE6F0"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Border:    []excelize.Border{{Type: "bottom", Color: "7F7F7F", Style: 1}},
	})
	// Text and codes carry the text format (@) so that a code such as
	// "001" or a flag stays what it is when someone edits the cell.
	// Long text wraps within its (capped) column instead of running over
	// the next cells.
	s.byFormat[FormatText] = add(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top", WrapText: true}})
	// Every cell sits at the top of its row, so that a row made tall by
	// wrapped text still reads as one line.
	top := func() *excelize.Alignment { return &excelize.Alignment{Vertical: "top"} }
	s.byFormat[FormatCode] = add(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top"}})
	s.byFormat[FormatYear] = add(&excelize.Style{NumFmt: 1, Alignment: top()})
	s.byFormat[FormatInteger] = add(&excelize.Style{NumFmt: 1, Alignment: top()})
	s.byFormat[FormatCount] = add(&excelize.Style{NumFmt: 3, Alignment: top()})  // #,##0
	s.byFormat[FormatNumber] = add(&excelize.Style{NumFmt: 4, Alignment: top()}) // #,##0.00
	s.byFormat[FormatRate] = add(&excelize.Style{NumFmt: 10, Alignment: top()})  // 0.00%
	change := "+0.0%;-0.0%;0.0%"
	s.byFormat[FormatChange] = add(&excelize.Style{CustomNumFmt: &change, Alignment: top()})
	date := "yyyy-mm-dd"
	s.byFormat[FormatDate] = add(&excelize.Style{CustomNumFmt: &date, Alignment: top()})
	s.count = add(&excelize.Style{NumFmt: 3, Alignment: top()})
	return s, err
}

// WriteWorkbook writes an .xlsx workbook at path: the About sheet first, then
// one sheet per table, streamed row by row so memory does not grow with the
// tables. Numbers stay numbers with number formats, headers are frozen and
// each table has an autofilter. It returns the rows written per sheet.
func WriteWorkbook(ctx context.Context, path string, about AboutSheet, sheets []TableSheet) (map[string]int64, error) {
	return WriteWorkbookOptions(ctx, path, about, sheets, WorkbookOptions{})
}

// WriteWorkbookOptions is WriteWorkbook with charts and a choice of where
// the definitions go. The sheets come in this order: Contents, About, the
// first table, the charts, the other tables (a split table's continuation
// sheets right after it), Definitions (with DefinitionsOnSheet). It returns the rows written per
// table and chart sheet, a split table's rows counted under its Name. The
// workbook appears under path only when complete; each call builds its own
// workbook, so one run may write several (the main one, topic workbooks).
func WriteWorkbookOptions(ctx context.Context, path string, about AboutSheet, sheets []TableSheet, opt WorkbookOptions) (map[string]int64, error) {
	return writeWorkbook(ctx, path, about, sheets, opt, ExcelMaxRows)
}

// workbook is the state of one workbook being written.
type workbook struct {
	f       *excelize.File
	st      *styles
	maxRows int // rows per sheet, header included; lowered by tests
	notes   []string
	tables  map[string]bool // Excel table names in use
	// contents describes each sheet written, for the Contents sheet.
	contents map[string]contentsEntry
}

// contentsEntry is a sheet's line on the Contents sheet; rows < 0 for a
// sheet of text.
type contentsEntry struct {
	what string
	rows int64
}

func writeWorkbook(ctx context.Context, path string, about AboutSheet, sheets []TableSheet, opt WorkbookOptions, maxRows int) (map[string]int64, error) {
	if err := validateWorkbook(sheets, opt); err != nil {
		return nil, fmt.Errorf("workbook %s: %w", path, err)
	}
	// The stream writers spill sheets larger than 16 MB to temporary
	// files: keep them beside the workbook, in the run's own build folder,
	// so that they go with it if the run is killed.
	f := excelize.NewFile(excelize.Options{TmpDir: filepath.Dir(path)})
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return nil, fmt.Errorf("workbook %s: styles: %w", path, err)
	}
	wb := &workbook{f: f, st: st, maxRows: maxRows, tables: map[string]bool{}, contents: map[string]contentsEntry{}}
	// Sheets appear in the order they are created; Contents and About are
	// written last, when they can say how many rows each sheet has and how
	// tables were split, but they are created first.
	if err := f.SetSheetName("Sheet1", ContentsSheet); err != nil {
		return nil, fmt.Errorf("workbook %s: %w", path, err)
	}
	if _, err := f.NewSheet("About"); err != nil {
		return nil, fmt.Errorf("workbook %s: %w", path, err)
	}
	// Contents opens first. Set before any sheet is streamed: afterwards
	// excelize would parse every streamed sheet back to mark it, only to
	// drop what it parsed when saving.
	f.SetActiveSheet(0)
	defs := fillLabels(about.Definitions, sheets, opt.Charts)
	// Sheet order: About, the first table (the headlines), the charts, the
	// other tables, and the Definitions last, for reference.
	counts := map[string]int64{}
	writeCharts := func() error {
		for _, c := range opt.Charts {
			n, err := wb.writeChart(ctx, c)
			if err != nil {
				return fmt.Errorf("workbook %s sheet %q: %w", path, c.Name, err)
			}
			counts[c.Name] = n
		}
		for _, g := range opt.ChartGroups {
			n, err := wb.writeChartGroup(g)
			if err != nil {
				return fmt.Errorf("workbook %s sheet %q: %w", path, g.Name, err)
			}
			counts[g.Name] = n
		}
		return nil
	}
	for i, sh := range sheets {
		n, err := wb.writeTable(ctx, sh)
		if err != nil {
			return nil, fmt.Errorf("workbook %s sheet %q: %w", path, sh.Name, err)
		}
		counts[sh.Name] = n
		if i == 0 {
			if err := writeCharts(); err != nil {
				return nil, err
			}
		}
	}
	if len(sheets) == 0 {
		if err := writeCharts(); err != nil {
			return nil, err
		}
	}
	if opt.Definitions == DefinitionsOnSheet {
		if err := wb.writeDefinitions(defs); err != nil {
			return nil, fmt.Errorf("workbook %s sheet %s: %w", path, DefinitionsSheet, err)
		}
	}
	if opt.Definitions == DefinitionsOnSheet {
		about.Definitions = nil
	} else {
		about.Definitions = defs
	}
	if err := wb.writeAbout(about, opt.Definitions == DefinitionsOnSheet); err != nil {
		return nil, fmt.Errorf("workbook %s sheet About: %w", path, err)
	}
	wb.contents["About"] = contentsEntry{what: aboutDescription, rows: -1}
	if err := wb.writeContents(about.Title); err != nil {
		return nil, fmt.Errorf("workbook %s sheet %s: %w", path, ContentsSheet, err)
	}
	created := opt.Created
	if created.IsZero() {
		created = time.Now()
	}
	stamp := created.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Title: about.Title, Creator: "visastats", LastModifiedBy: "visastats",
		Created: stamp, Modified: stamp, Description: aboutDescription}); err != nil {
		return nil, fmt.Errorf("workbook %s: document properties: %w", path, err)
	}
	// The Contents sheet, written in memory, put its texts in excelize's
	// shared string table; the streamed sheets' texts are added after them.
	base := 0
	if f.SharedStrings != nil {
		base = len(f.SharedStrings.SI)
	}
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return newDimensionZip(w, base) })
	err = writeAtomic(path, func(out *os.File) error {
		_, err := f.WriteTo(out)
		return err
	})
	return counts, err
}

// validateWorkbook checks everything that can be checked before a query
// runs, so that a mistake fails at once and names what to fix.
func validateWorkbook(sheets []TableSheet, opt WorkbookOptions) error {
	var errs []error
	names := map[string]bool{"about": true, strings.ToLower(ContentsSheet): true}
	switch opt.Definitions {
	case "", DefinitionsOnAbout:
	case DefinitionsOnSheet:
		names[strings.ToLower(DefinitionsSheet)] = true
	default:
		errs = append(errs, fmt.Errorf("definitions placement %q: want %q or %q", opt.Definitions, DefinitionsOnAbout, DefinitionsOnSheet))
	}
	sheetName := func(name string) {
		if err := checkSheetName(name); err != nil {
			errs = append(errs, fmt.Errorf("sheet %q: %w", name, err))
		}
		if names[strings.ToLower(name)] {
			errs = append(errs, fmt.Errorf("sheet %q: two sheets have this name", name))
		}
		names[strings.ToLower(name)] = true
	}
	columns := func(sheet string, cols []Column) {
		titles := map[string]bool{}
		for i, c := range cols {
			if c.Header == "" {
				errs = append(errs, fmt.Errorf("sheet %q column %d: no header", sheet, i+1))
			}
			if !c.Format.Valid() {
				errs = append(errs, fmt.Errorf("sheet %q column %q: unknown format %q", sheet, c.Header, c.Format))
			}
			if t := strings.ToLower(c.title()); titles[t] {
				errs = append(errs, fmt.Errorf("sheet %q column %q: header %q is used twice", sheet, c.Header, c.title()))
			} else {
				titles[t] = true
			}
		}
	}
	for _, c := range opt.Charts {
		sheetName(c.Name)
		columns(c.Name, c.Columns)
		if c.Kind != ChartLine && c.Kind != ChartColumn {
			errs = append(errs, fmt.Errorf("chart sheet %q: kind %q: want %q or %q", c.Name, c.Kind, ChartLine, ChartColumn))
		}
		if len(c.Columns) < 2 {
			errs = append(errs, fmt.Errorf("chart sheet %q: needs a category column and at least one series", c.Name))
		}
		if c.Query == nil {
			errs = append(errs, fmt.Errorf("chart sheet %q: no query", c.Name))
		}
	}
	for _, g := range opt.ChartGroups {
		sheetName(g.Name)
		if len(g.Charts) == 0 {
			errs = append(errs, fmt.Errorf("chart sheet %q: no chart", g.Name))
		}
		for _, c := range g.Charts {
			if err := plot.Validate(c); err != nil {
				errs = append(errs, fmt.Errorf("chart sheet %q: %w", g.Name, err))
			}
		}
	}
	for _, sh := range sheets {
		sheetName(sh.Name)
		columns(sh.Name, sh.Columns)
		if sh.Overflow != "" && sh.Overflow != OverflowError && sh.Overflow != OverflowSplit {
			errs = append(errs, fmt.Errorf("sheet %q: overflow %q: want %q or %q", sh.Name, sh.Overflow, OverflowError, OverflowSplit))
		}
		if sh.Query == nil {
			errs = append(errs, fmt.Errorf("sheet %q: no query", sh.Name))
		}
	}
	return errors.Join(errs...)
}

// checkSheetName applies Excel's rules for sheet names.
func checkSheetName(name string) error {
	switch {
	case name == "":
		return errors.New("a sheet needs a name")
	case utf8.RuneCountInString(name) > 31:
		return errors.New("longer than Excel's 31 characters")
	case strings.ContainsAny(name, `:\/?*[]`):
		return errors.New(`contains one of : \ / ? * [ ], which Excel forbids`)
	case strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'"):
		return errors.New("starts or ends with an apostrophe, which Excel forbids")
	}
	return nil
}

// fillLabels gives every definition without a label the label of the
// column it documents.
func fillLabels(defs []Definition, sheets []TableSheet, charts []ChartSheet) []Definition {
	labels := map[[2]string]string{}
	for _, sh := range sheets {
		for _, c := range sh.Columns {
			labels[[2]string{sh.Name, c.Header}] = c.Label
		}
	}
	for _, sh := range charts {
		for _, c := range sh.Columns {
			labels[[2]string{sh.Name, c.Header}] = c.Label
		}
	}
	out := make([]Definition, len(defs))
	for i, d := range defs {
		if d.Label == "" {
			d.Label = labels[[2]string{d.Sheet, d.Column}]
		}
		out[i] = d
	}
	return out
}

// textSheet streams a sheet of wrapped text. Streamed rows are not
// measured by spreadsheet programs, so each row gets an explicit height:
// the lines needed by its fullest cell, at 15 points a line, up to
// Excel's limit (rowHeight).
type textSheet struct {
	sw     *excelize.StreamWriter
	widths []float64
	row    int
	merged []int // rows whose first cell spans all columns
}

func newTextSheet(f *excelize.File, sheet string, widths []float64, headerRow, keyColumns int) (*textSheet, error) {
	if err := printLayout(f, sheet, headerRow, keyColumns); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	return &textSheet{sw: sw, widths: widths, row: 1}, nil
}

// put writes one row; with span its single cell runs across every column.
func (t *textSheet) put(span bool, vals ...excelize.Cell) error {
	lines := 1
	for i, v := range vals {
		text, _ := v.Value.(string)
		w := t.widths[i]
		if span {
			w = 0
			for _, x := range t.widths {
				w += x
			}
		}
		if n := wrappedLines(text, w); n > lines {
			lines = n
		}
	}
	cells := make([]any, len(vals))
	for i, v := range vals {
		cells[i] = v
	}
	if span {
		t.merged = append(t.merged, t.row)
	}
	cell, _ := excelize.CoordinatesToCellName(1, t.row)
	t.row++
	return t.sw.SetRow(cell, cells, excelize.RowOpts{Height: rowHeight(lines, 0)})
}

func (t *textSheet) skip() { t.row++ }

func (t *textSheet) flush() error {
	last, _ := excelize.ColumnNumberToName(len(t.widths))
	for _, r := range t.merged {
		if err := t.sw.MergeCell(fmt.Sprintf("A%d", r), fmt.Sprintf("%s%d", last, r)); err != nil {
			return err
		}
	}
	return t.sw.Flush()
}

// wrappedLines estimates the lines text takes in a wrapping cell width
// characters wide, breaking at spaces as spreadsheet programs do.
func wrappedLines(text string, width float64) int {
	per := int(width * 1.05)
	if per < 1 {
		per = 1
	}
	lines := 0
	for _, para := range strings.Split(text, "\n") {
		n, cur := 1, 0
		for _, word := range strings.Fields(para) {
			l := utf8.RuneCountInString(word)
			switch {
			case cur == 0:
				cur = l
			case cur+1+l <= per:
				cur += 1 + l
			default:
				n++
				cur = l
			}
			for cur > per { // a word longer than the cell breaks anywhere
				n++
				cur -= per
			}
		}
		lines += n
	}
	return lines
}

func (wb *workbook) writeAbout(a AboutSheet, defsElsewhere bool) error {
	t, err := newTextSheet(wb.f, "About", []float64{30, 34, 14, 90}, 0, 0)
	if err != nil {
		return err
	}
	st := wb.st
	cellOf := func(v any, style int) excelize.Cell { return excelize.Cell{Value: v, StyleID: style} }
	var errs []error
	errs = append(errs, t.put(false, cellOf(a.Title, st.title)))
	t.skip()
	for _, p := range a.Paragraphs {
		errs = append(errs, t.put(true, cellOf(p, st.wrap)))
	}
	for _, p := range wb.notes {
		errs = append(errs, t.put(true, cellOf(p, st.wrap)))
	}
	t.skip()
	for _, kv := range a.Facts {
		errs = append(errs, t.put(false, cellOf(kv[0], st.heading), cellOf(kv[1], st.wrap)))
	}
	t.skip()
	errs = append(errs, t.put(false, cellOf("Sources", st.heading)))
	errs = append(errs, t.put(false, cellOf("Source", st.header), cellOf("Publisher", st.header), cellOf("Licence", st.header), cellOf("Link and files", st.header)))
	for _, s := range a.Sources {
		errs = append(errs, t.put(false, cellOf(s.Name, st.wrap), cellOf(s.Publisher, st.wrap), cellOf(s.Licence, st.wrap), cellOf(s.URL+"\n"+s.Files, st.wrap)))
	}
	t.skip()
	for _, sec := range a.Sections {
		for _, r := range append([][]string{sec.Columns}, sec.Rows...) {
			if len(r) > len(t.widths) {
				return fmt.Errorf("section %q: %d cells in a row, the About sheet has %d columns", sec.Heading, len(r), len(t.widths))
			}
		}
		errs = append(errs, t.put(false, cellOf(sec.Heading, st.heading)))
		if len(sec.Rows) == 0 {
			errs = append(errs, t.put(true, cellOf(sec.Empty, st.wrap)))
			t.skip()
			continue
		}
		var head []excelize.Cell
		for _, c := range sec.Columns {
			head = append(head, cellOf(c, st.header))
		}
		errs = append(errs, t.put(false, head...))
		for _, r := range sec.Rows {
			var cells []excelize.Cell
			for _, v := range r {
				cells = append(cells, cellOf(v, st.wrap))
			}
			errs = append(errs, t.put(false, cells...))
		}
		t.skip()
	}
	errs = append(errs, t.put(false, cellOf("Definitions", st.heading)))
	if defsElsewhere {
		errs = append(errs, t.put(true, cellOf("Every column of every sheet is explained on the sheet "+DefinitionsSheet+": its label, technical name, meaning (for a computed column, how it is computed) and unit.", st.wrap)))
	} else {
		errs = append(errs, t.put(false, cellOf("Sheet", st.header), cellOf("Column", st.header), cellOf("Unit", st.header), cellOf("Meaning", st.header)))
		for _, d := range a.Definitions {
			col := d.Column
			if d.Label != "" && d.Label != d.Column {
				col = d.Label + "\n(" + d.Column + ")"
			}
			meaning := d.Meaning
			if d.Formula != "" {
				meaning += "\nFormula: " + d.Formula
			}
			errs = append(errs, t.put(false, cellOf(d.Sheet, st.wrap), cellOf(col, st.wrap), cellOf(d.Unit, st.wrap), cellOf(meaning, st.wrap)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return t.flush()
}

// writeContents fills the Contents sheet, written in memory (it is small,
// and its sheet names link to their sheets): a line per sheet in the
// workbook's order, what it holds and how many rows.
func (wb *workbook) writeContents(title string) error {
	f, sheet := wb.f, ContentsSheet
	widths := []float64{34, 100, 12}
	if err := printLayout(f, sheet, 3, 1); err != nil {
		return err
	}
	for i, w := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, w); err != nil {
			return err
		}
	}
	set := func(col, row int, v any, style int) error {
		cell, _ := excelize.CoordinatesToCellName(col, row)
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			return err
		}
		return f.SetCellStyle(sheet, cell, cell, style)
	}
	st := wb.st
	const intro = "Each sheet of this workbook, what it holds and how many rows; click a name to open the sheet. The full tables are in the CSV and Parquet files of the same release."
	errs := []error{
		set(1, 1, title, st.title),
		set(1, 2, intro, st.wrap),
		f.MergeCell(sheet, "A2", "C2"),
		f.SetRowHeight(sheet, 2, rowHeight(wrappedLines(intro, widths[0]+widths[1]+widths[2]), 0)),
		set(1, 3, "Sheet", st.header), set(2, 3, "What it holds", st.header), set(3, 3, "Rows", st.header),
	}
	row := 4
	for _, name := range f.GetSheetList() {
		e, ok := wb.contents[name]
		if !ok {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		errs = append(errs, set(1, row, name, st.link),
			f.SetCellHyperLink(sheet, cell, quoteSheet(name)+"!A1", "Location"),
			set(2, row, e.what, st.wrap))
		if e.rows >= 0 {
			errs = append(errs, set(3, row, e.rows, st.count))
		}
		errs = append(errs, f.SetRowHeight(sheet, row, rowHeight(wrappedLines(e.what, widths[1]), 0)))
		row++
	}
	errs = append(errs, f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}))
	return errors.Join(errs...)
}

func (wb *workbook) writeDefinitions(defs []Definition) error {
	if _, err := wb.f.NewSheet(DefinitionsSheet); err != nil {
		return err
	}
	// The Formula column is there when a definition has a formula: a
	// column empty in every row tells a reader nothing.
	formulas := slices.ContainsFunc(defs, func(d Definition) bool { return d.Formula != "" })
	widths := []float64{26, 24, 28, 70, 13}
	if formulas {
		widths = append(widths, 32)
	}
	t, err := newTextSheet(wb.f, DefinitionsSheet, widths, 1, 2)
	if err != nil {
		return err
	}
	if err := t.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cell := func(v string, style int) excelize.Cell { return excelize.Cell{Value: v, StyleID: style} }
	h := wb.st.header
	head := []excelize.Cell{cell("Sheet", h), cell("Column", h), cell("Label", h), cell("Meaning", h), cell("Unit", h)}
	if formulas {
		head = append(head, cell("Formula", h))
	}
	if err := t.put(false, head...); err != nil {
		return err
	}
	w := wb.st.wrap
	for _, d := range defs {
		row := []excelize.Cell{cell(d.Sheet, w), cell(d.Column, w), cell(d.Label, w), cell(d.Meaning, w), cell(d.Unit, w)}
		if formulas {
			row = append(row, cell(d.Formula, w))
		}
		if err := t.put(false, row...); err != nil {
			return err
		}
	}
	wb.contents[DefinitionsSheet] = contentsEntry{what: definitionsDescription, rows: int64(len(defs))}
	if len(defs) > 0 {
		last, _ := excelize.CoordinatesToCellName(len(widths), len(defs)+1)
		if err := t.sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: wb.tableName(DefinitionsSheet), StyleName: "TableStyleLight1"}); err != nil {
			return err
		}
	}
	return t.flush()
}

// sampleRows is how many rows are read ahead to size a table's columns.
const sampleRows = 1000

func (wb *workbook) writeTable(ctx context.Context, sh TableSheet) (int64, error) {
	rows, vals, ptrs, err := openSheetQuery(ctx, sh.Query, len(sh.Columns))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	ncol := len(vals)
	var n int64
	next := func(dst []any) (bool, error) {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		if !rows.Next() {
			return false, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return false, fmt.Errorf("row %d: %w", n+1, err)
		}
		for i, v := range vals {
			dst[i] = cellValue(v)
		}
		n++
		return true, nil
	}
	// The stream writer needs column widths before the first row, so a
	// bounded sample is read ahead to fit them.
	var sample [][]any
	for len(sample) < sampleRows {
		r := make([]any, ncol)
		ok, err := next(r)
		if err != nil {
			return n, err
		}
		if !ok {
			break
		}
		sample = append(sample, r)
	}
	widths := fitWidths(sh.Columns, sample)

	part := 1
	var sw *excelize.StreamWriter
	var written int // data rows on the current part
	var parts []string
	var partRows []int64
	// The header is the first row, or the second under a note.
	headerRow := 1
	if sh.Note != "" {
		headerRow = 2
	}
	start := func() error {
		name := sh.Name
		if part > 1 {
			name = continuationName(sh.Name, part)
			if idx, _ := wb.f.GetSheetIndex(name); idx != -1 {
				return fmt.Errorf("continuation sheet %q: a sheet has this name", name)
			}
		}
		parts = append(parts, name)
		if _, err := wb.f.NewSheet(name); err != nil {
			return err
		}
		sw, err = wb.startTable(name, sh, widths)
		written = 0
		return err
	}
	finish := func() error {
		partRows = append(partRows, int64(written))
		if written > 0 {
			first, _ := excelize.CoordinatesToCellName(1, headerRow)
			last, _ := excelize.CoordinatesToCellName(ncol, written+headerRow)
			stripes := true
			if err := sw.AddTable(&excelize.Table{Range: first + ":" + last, Name: wb.tableName(parts[len(parts)-1]), StyleName: "TableStyleLight1", ShowRowStripes: &stripes}); err != nil {
				return err
			}
		}
		return sw.Flush()
	}
	// One row of cells, refilled for every row and passed by pointer,
	// so that a row costs no allocation of its own.
	cells := make([]excelize.Cell, ncol)
	out := make([]any, ncol)
	for i := range cells {
		cells[i].StyleID = wb.st.byFormat[sh.Columns[i].Format]
		out[i] = &cells[i]
	}
	formats := make([]string, ncol)
	emit := func(r []any) error {
		if written+headerRow+1 > wb.maxRows {
			if sh.Overflow != OverflowSplit {
				return fmt.Errorf("%w: more than %d data rows; write the table to Parquet or CSV, or let it split across sheets", ErrTooManyRows, wb.maxRows-headerRow)
			}
			if err := finish(); err != nil {
				return err
			}
			part++
			if err := start(); err != nil {
				return err
			}
		}
		if sh.Present != nil {
			clear(formats)
			sh.Present(r, formats)
		}
		for i, v := range r {
			cells[i].Value = v
			if sh.Present != nil {
				cells[i].StyleID = wb.st.byFormat[sh.Columns[i].Format]
				if formats[i] != "" {
					id, err := wb.st.custom(wb.f, formats[i])
					if err != nil {
						return fmt.Errorf("column %q: %w", sh.Columns[i].Header, err)
					}
					cells[i].StyleID = id
				}
			}
		}
		cell := "A" + strconv.Itoa(written+headerRow+1)
		written++
		if h := wrappedHeight(sh.Columns, widths, r); h > 0 {
			return sw.SetRow(cell, out, excelize.RowOpts{Height: h})
		}
		return sw.SetRow(cell, out)
	}
	if err := start(); err != nil {
		return n, err
	}
	for _, r := range sample {
		if err := emit(r); err != nil {
			return n, err
		}
	}
	if len(sample) == sampleRows {
		// The rest is read on another goroutine while this one writes:
		// fetching and converting the rows takes about as long as
		// excelize takes to write them.
		ra := startReadAhead(ncol, next)
		err := func() error {
			for b := range ra.batches {
				for _, r := range b {
					if err := emit(r); err != nil {
						return err
					}
				}
				select {
				case ra.free <- b:
				default:
				}
			}
			return ra.err
		}()
		ra.close()
		if err != nil {
			return n, err
		}
	}
	sample = nil
	if err := finish(); err != nil {
		return n, err
	}
	for i, name := range parts {
		what := sh.Description
		if sh.Note != "" {
			what = strings.TrimSuffix(what, ".") + ". " + sh.Note
		}
		if i > 0 {
			what = fmt.Sprintf("%s, continued (part %d of %d)", sh.Name, i+1, len(parts))
		}
		wb.contents[name] = contentsEntry{what: what, rows: partRows[i]}
	}
	if len(parts) > 1 {
		wb.notes = append(wb.notes, fmt.Sprintf(
			"The table %s has %s rows, more than one Excel sheet holds (%s rows with the header), so it continues on the sheets %s. Each sheet repeats the header row; together they hold every row, in order.",
			sh.Name, Thousands(n), Thousands(int64(wb.maxRows)), strings.Join(parts[1:], ", ")))
	}
	return n, nil
}

// readAhead reads a table's rows on its own goroutine, batchRows at a
// time, while the caller writes the batches already read. A batch the
// caller hands back on free is refilled instead of allocated.
type readAhead struct {
	batches chan [][]any // closed when the rows end, fail or stop
	free    chan [][]any
	stop    chan struct{}
	err     error // why reading failed; read it once batches is closed
}

// batchRows is how many rows a readAhead batch holds.
const batchRows = 256

// startReadAhead calls next, which fills a row and reports whether there
// was one, until it reports no row or an error, or close is called.
func startReadAhead(ncol int, next func(dst []any) (bool, error)) *readAhead {
	ra := &readAhead{batches: make(chan [][]any, 2), free: make(chan [][]any, 4), stop: make(chan struct{})}
	go func() {
		defer close(ra.batches)
		for more := true; more; {
			var b [][]any
			select {
			case b = <-ra.free:
				b = b[:0]
			default:
			}
			for len(b) < batchRows {
				if len(b) < cap(b) && b[:cap(b)][len(b)] != nil {
					b = b[:len(b)+1] // a row of a batch handed back
				} else {
					b = append(b, make([]any, ncol))
				}
				ok, err := next(b[len(b)-1])
				if err != nil {
					ra.err = err
					return
				}
				if !ok {
					b, more = b[:len(b)-1], false
					break
				}
			}
			if len(b) == 0 {
				return
			}
			select {
			case ra.batches <- b:
			case <-ra.stop:
				return
			}
		}
	}()
	return ra
}

// close stops the reading and waits until next is no longer called.
func (ra *readAhead) close() {
	close(ra.stop)
	for range ra.batches {
	}
}

// startTable opens a stream writer on a new table sheet and writes its
// note, if any, across the table's width and its header row.
func (wb *workbook) startTable(sheet string, sh TableSheet, widths []float64) (*excelize.StreamWriter, error) {
	cols := sh.Columns
	headerRow := 1
	if sh.Note != "" {
		headerRow = 2
	}
	if err := printLayout(wb.f, sheet, headerRow, min(sh.KeyColumns, len(cols))); err != nil {
		return nil, err
	}
	sw, err := wb.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	top, _ := excelize.CoordinatesToCellName(1, headerRow+1)
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: top, ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if sh.Note != "" {
		var total float64
		for _, w := range widths {
			total += w
		}
		note := []any{excelize.Cell{Value: sh.Note, StyleID: wb.st.wrap}}
		if err := sw.SetRow("A1", note, excelize.RowOpts{Height: rowHeight(wrappedLines(sh.Note, total), 0)}); err != nil {
			return nil, err
		}
		if len(cols) > 1 {
			last, _ := excelize.CoordinatesToCellName(len(cols), 1)
			if err := sw.MergeCell("A1", last); err != nil {
				return nil, err
			}
		}
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{Value: c.title(), StyleID: wb.st.header}
	}
	first, _ := excelize.CoordinatesToCellName(1, headerRow)
	return sw, sw.SetRow(first, header, excelize.RowOpts{Height: headerHeight(cols, widths)})
}

// continuationName names part n (2, 3, ...) of a split table's sheet,
// shortening the base so that the name fits Excel's 31 characters.
func continuationName(base string, n int) string {
	suffix := fmt.Sprintf(" (%d)", n)
	r := []rune(base)
	if max := 31 - len(suffix); len(r) > max {
		r = r[:max]
	}
	return string(r) + suffix
}

// tableName turns a sheet name into a valid Excel table name, unique in
// the workbook.
func (wb *workbook) tableName(sheet string) string {
	b := []rune("t_")
	for _, r := range sheet {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b = append(b, r)
		} else {
			b = append(b, '_')
		}
	}
	name := string(b)
	for i := 2; wb.tables[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s_%d", string(b), i)
	}
	wb.tables[strings.ToLower(name)] = true
	return name
}

// wrappedHeight is the height a row needs when a text cell wraps over
// several lines (spreadsheet programs do not measure streamed rows), or 0
// for a one-line row.
func wrappedHeight(cols []Column, widths []float64, row []any) float64 {
	lines := 1
	for i, c := range cols {
		text, ok := row[i].(string)
		if c.Format != FormatText || !ok {
			continue
		}
		n := 0
		for _, part := range strings.Split(text, "\n") {
			n += int(math.Ceil(float64(utf8.RuneCountInString(part)+1) / (widths[i] * 1.05)))
		}
		if n > lines {
			lines = n
		}
	}
	if lines == 1 {
		return 0
	}
	return rowHeight(lines, 0)
}

// rowHeight is the height of a row of lines lines of text, 15 points a
// line plus extra, capped at Excel's largest row height (409 points,
// about 27 lines): excelize refuses a taller row, and with it the whole
// workbook. A capped cell keeps its whole text; the cell shows its first
// lines and the formula bar the rest.
func rowHeight(lines int, extra float64) float64 {
	return min(float64(15*lines)+extra, excelize.MaxRowHeight)
}

// fitWidths sizes each column to its header, wrapped on at most two
// lines, and to the widest value of the sample as it will be shown.
func fitWidths(cols []Column, sample [][]any) []float64 {
	widths := make([]float64, len(cols))
	for i, c := range cols {
		var data float64
		for _, r := range sample {
			if w := shownWidth(r[i], c.Format); w > data {
				data = w
			}
		}
		title := c.title()
		head := math.Ceil(float64(utf8.RuneCountInString(title)) / 2)
		for _, word := range strings.Fields(title) {
			if l := float64(utf8.RuneCountInString(word)); l > head {
				head = l
			}
		}
		head *= 1.1 // bold
		w := math.Max(data, head) + 2
		lo, hi := 6.0, 16.0
		switch c.Format {
		case FormatText:
			lo, hi = 10, 60
		case FormatCode:
			hi = 30
		case FormatDate:
			lo = 11
		}
		widths[i] = math.Min(math.Max(w, lo), hi)
	}
	return widths
}

// shownWidth is the number of characters a value takes in its format.
func shownWidth(v any, f Format) float64 {
	var x float64
	switch t := v.(type) {
	case nil:
		return 0
	case string:
		return float64(utf8.RuneCountInString(t))
	case bool:
		return 5
	case time.Time:
		return 10
	case int64:
		x = float64(t)
	case float64:
		x = t
	default:
		return float64(utf8.RuneCountInString(fmt.Sprint(t)))
	}
	digits := func(x float64) float64 {
		d := float64(len(strconv.FormatInt(int64(math.Abs(math.Round(x))), 10)))
		if x < 0 {
			d++
		}
		return d
	}
	switch f {
	case FormatCount:
		d := digits(x)
		return d + math.Floor((d-1)/3)
	case FormatNumber:
		d := digits(x)
		return d + math.Floor((d-1)/3) + 3
	case FormatRate:
		return digits(x*100) + 4
	case FormatChange:
		return digits(x*100) + 4
	case FormatYear, FormatInteger:
		return digits(x)
	}
	return float64(len(strconv.FormatFloat(x, 'g', -1, 64)))
}

// headerHeight is the height of a header row whose titles wrap within
// their widths.
func headerHeight(cols []Column, widths []float64) float64 {
	lines := 1
	for i, c := range cols {
		if n := wrappedLines(c.title(), widths[i]/1.1-1); n > lines {
			lines = n
		}
	}
	return rowHeight(lines, 2)
}

// cellValue maps a database value to what excelize writes: numbers stay
// numbers, NULL and empty text stay empty cells, booleans are Yes or No.
func cellValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return x
	case []byte:
		if len(x) == 0 {
			return nil
		}
		return string(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return float64(x)
	case float32:
		return cellValue(float64(x))
	case float64:
		// Excel has no NaN or infinity; an empty cell is the honest cell.
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case bool:
		// A boolean cell shows TRUE/FALSE in Excel but 1/0 in LibreOffice;
		// the words read the same everywhere.
		if x {
			return "Yes"
		}
		return "No"
	case int64, time.Time:
		return x
	}
	if f, ok := asFloat64(v); ok {
		return f
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v)
}

// printLayout makes a sheet print landscape, fitted to one page wide
// (as many pages down as it takes). With headerRow > 0 that row (the
// column titles) repeats at the top of every printed page, and the first
// keyColumns columns (the codes, names and year that identify a row)
// repeat at the left, should a program print wider than the page. It
// must be set before a stream writer takes over the sheet.
func printLayout(f *excelize.File, sheet string, headerRow, keyColumns int) error {
	landscape := "landscape"
	one, zero, fit := 1, 0, true
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &zero}); err != nil {
		return err
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	side, edge := printSideMargin, 0.5
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{Left: &side, Right: &side, Top: &edge, Bottom: &edge}); err != nil {
		return err
	}
	if headerRow <= 0 {
		return nil
	}
	row := strconv.Itoa(headerRow)
	titles := quoteSheet(sheet) + "!$" + row + ":$" + row
	if keyColumns > 0 {
		last, _ := excelize.ColumnNumberToName(keyColumns)
		titles = quoteSheet(sheet) + "!$A:$" + last + "," + titles
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: titles, Scope: sheet})
}

// printSideMargin is the left and right margin of a printed page, in
// inches.
const printSideMargin = 0.4

// openSheetQuery runs a sheet's query, checks that it returns the declared
// number of columns, and returns scan targets for its rows: ptrs points at
// vals. The caller closes the rows.
func openSheetQuery(ctx context.Context, query func(context.Context) (*sql.Rows, error), want int) (*sql.Rows, []any, []any, error) {
	rows, err := query(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, nil, nil, err
	}
	if len(cols) != want {
		rows.Close()
		return nil, nil, nil, fmt.Errorf("query returns %d columns, the sheet declares %d", len(cols), want)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return rows, vals, ptrs, nil
}
