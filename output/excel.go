package output

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// ExcelMaxRows is the number of rows a worksheet can hold, header included.
const ExcelMaxRows = 1048576

// ErrTooManyRows reports a table that does not fit in one worksheet. It is
// never truncated silently.
var ErrTooManyRows = errors.New("table exceeds Excel's 1,048,576 rows per sheet")

// Format says how a column's cells are shown in a workbook.
type Format string

// Cell formats.
const (
	FormatText    Format = "text"    // left-aligned text
	FormatCode    Format = "code"    // short code, e.g. ISO country code
	FormatYear    Format = "year"    // integer without thousands separator
	FormatInteger Format = "integer" // small integer without separator
	FormatCount   Format = "count"   // integer with thousands separator
	FormatNumber  Format = "number"  // decimal with thousands separator
	FormatRate    Format = "rate"    // fraction shown as a percentage
	FormatChange  Format = "change"  // signed fraction shown as a percentage
)

// Column is one column of a table sheet.
type Column struct {
	Header string
	Format Format
}

// TableSheet is one sheet holding a table, filled from the rows of Query,
// whose columns match Columns in order. Query is called when the sheet is
// written and its rows are closed afterwards.
type TableSheet struct {
	Name    string
	Columns []Column
	Query   func(ctx context.Context) (*sql.Rows, error)
}

// AboutSheet is the first sheet of a workbook: what the data is, where it
// comes from and what every column means.
type AboutSheet struct {
	Title       string
	Paragraphs  []string
	Facts       [][2]string // label, value: release, generated at, ...
	Sources     []SourceNote
	Definitions []Definition
}

// SourceNote describes one upstream source on the About sheet.
type SourceNote struct {
	Name, Publisher, URL, Licence, Files string
}

// Definition documents one column of a table sheet.
type Definition struct {
	Sheet, Column, Unit, Meaning string
}

type styles struct {
	title, heading, wrap, header, link int
	byFormat                           map[Format]int
}

func newStyles(f *excelize.File) (*styles, error) {
	s := &styles{byFormat: map[Format]int{}}
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
	s.byFormat[FormatText] = add(&excelize.Style{})
	s.byFormat[FormatCode] = add(&excelize.Style{Alignment: &excelize.Alignment{Horizontal: "left"}})
	s.byFormat[FormatYear] = add(&excelize.Style{NumFmt: 1})
	s.byFormat[FormatInteger] = add(&excelize.Style{NumFmt: 1})
	s.byFormat[FormatCount] = add(&excelize.Style{NumFmt: 3})  // #,##0
	s.byFormat[FormatNumber] = add(&excelize.Style{NumFmt: 4}) // #,##0.00
	s.byFormat[FormatRate] = add(&excelize.Style{NumFmt: 10})  // 0.00%
	change := "+0.0%;-0.0%;0.0%"
	s.byFormat[FormatChange] = add(&excelize.Style{CustomNumFmt: &change})
	return s, err
}

func columnWidth(c Column) float64 {
	w := float64(utf8.RuneCountInString(c.Header))*0.9 + 2
	min := map[Format]float64{FormatText: 28, FormatCode: 9, FormatYear: 7, FormatInteger: 9,
		FormatCount: 13, FormatNumber: 14, FormatRate: 11, FormatChange: 11}[c.Format]
	if w < min {
		w = min
	}
	if w > 40 {
		w = 40
	}
	return w
}

// WriteWorkbook writes an .xlsx workbook at path: the About sheet first, then
// one sheet per table, streamed row by row so memory does not grow with the
// tables. Numbers stay numbers with number formats, headers are frozen and
// each table has an autofilter. It returns the rows written per sheet.
func WriteWorkbook(ctx context.Context, path string, about AboutSheet, sheets []TableSheet) (map[string]int64, error) {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return nil, fmt.Errorf("workbook %s: styles: %w", path, err)
	}
	if err := f.SetSheetName("Sheet1", "About"); err != nil {
		return nil, fmt.Errorf("workbook %s: %w", path, err)
	}
	if err := writeAbout(f, st, about); err != nil {
		return nil, fmt.Errorf("workbook %s sheet About: %w", path, err)
	}
	counts := map[string]int64{}
	for _, sh := range sheets {
		n, err := writeTableSheet(ctx, f, st, sh)
		if err != nil {
			return nil, fmt.Errorf("workbook %s sheet %q: %w", path, sh.Name, err)
		}
		counts[sh.Name] = n
	}
	f.SetActiveSheet(0)
	f.SetDocProps(&excelize.DocProperties{Title: about.Title, Creator: "visastats", Created: time.Now().UTC().Format(time.RFC3339)})
	err = writeAtomic(path, func(out *os.File) error {
		_, err := f.WriteTo(out)
		return err
	})
	return counts, err
}

func writeAbout(f *excelize.File, st *styles, a AboutSheet) error {
	const sheet = "About"
	if err := printLayout(f, sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	for i, w := range []float64{30, 34, 14, 90} {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	// Streamed rows are not measured by spreadsheet programs, so wrapped
	// text gets an explicit height: lines needed in the narrowest wrapping
	// cell of the row, at 15 points a line.
	widths := []float64{30, 34, 14, 90}
	row := 1
	put := func(span bool, vals ...excelize.Cell) error {
		lines := 1
		for i, v := range vals {
			text, _ := v.Value.(string)
			w := widths[i]
			if span {
				w = widths[0] + widths[1] + widths[2] + widths[3]
			}
			n := 0
			for _, part := range strings.Split(text, "\n") {
				n += int(math.Ceil(float64(utf8.RuneCountInString(part)+1) / (w * 1.05)))
			}
			if n > lines {
				lines = n
			}
		}
		cells := make([]any, len(vals))
		for i, v := range vals {
			cells[i] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(cell, cells, excelize.RowOpts{Height: float64(15 * lines)})
	}
	cellOf := func(v any, style int) excelize.Cell { return excelize.Cell{Value: v, StyleID: style} }
	var errs []error
	errs = append(errs, put(false, cellOf(a.Title, st.title)))
	row++
	for _, p := range a.Paragraphs {
		errs = append(errs, put(true, cellOf(p, st.wrap)))
	}
	row++
	for _, kv := range a.Facts {
		errs = append(errs, put(false, cellOf(kv[0], st.heading), cellOf(kv[1], st.wrap)))
	}
	row++
	errs = append(errs, put(false, cellOf("Sources", st.heading)))
	errs = append(errs, put(false, cellOf("Source", st.header), cellOf("Publisher", st.header), cellOf("Licence", st.header), cellOf("Link and files", st.header)))
	for _, s := range a.Sources {
		errs = append(errs, put(false, cellOf(s.Name, st.wrap), cellOf(s.Publisher, st.wrap), cellOf(s.Licence, st.wrap), cellOf(s.URL+"\n"+s.Files, st.wrap)))
	}
	row++
	errs = append(errs, put(false, cellOf("Definitions", st.heading)))
	errs = append(errs, put(false, cellOf("Sheet", st.header), cellOf("Column", st.header), cellOf("Unit", st.header), cellOf("Meaning", st.header)))
	for _, d := range a.Definitions {
		errs = append(errs, put(false, cellOf(d.Sheet, st.wrap), cellOf(d.Column, st.wrap), cellOf(d.Unit, st.wrap), cellOf(d.Meaning, st.wrap)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Paragraphs span the four columns so that they wrap across the page.
	for i := range a.Paragraphs {
		r := 3 + i
		if err := sw.MergeCell(fmt.Sprintf("A%d", r), fmt.Sprintf("D%d", r)); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func writeTableSheet(ctx context.Context, f *excelize.File, st *styles, sh TableSheet) (int64, error) {
	if _, err := f.NewSheet(sh.Name); err != nil {
		return 0, err
	}
	if err := printLayout(f, sh.Name); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(sh.Name)
	if err != nil {
		return 0, err
	}
	rows, err := sh.Query(ctx)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	if len(cols) != len(sh.Columns) {
		return 0, fmt.Errorf("query returns %d columns, the sheet declares %d", len(cols), len(sh.Columns))
	}
	for i, c := range sh.Columns {
		if err := sw.SetColWidth(i+1, i+1, columnWidth(c)); err != nil {
			return 0, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return 0, err
	}
	header := make([]any, len(sh.Columns))
	for i, c := range sh.Columns {
		header[i] = excelize.Cell{Value: c.Header, StyleID: st.header}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 32}); err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]any, len(cols))
	var n int64
	for rows.Next() {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		if n+2 > ExcelMaxRows {
			return n, fmt.Errorf("%w: write the table to Parquet or CSV instead", ErrTooManyRows)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("row %d: %w", n+2, err)
		}
		for i, v := range vals {
			out[i] = excelize.Cell{Value: cellValue(v), StyleID: st.byFormat[sh.Columns[i].Format]}
		}
		cell, _ := excelize.CoordinatesToCellName(1, int(n)+2)
		if err := sw.SetRow(cell, out); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	last, _ := excelize.CoordinatesToCellName(len(cols), int(n)+1)
	if n > 0 {
		showStripes := true
		if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: tableName(sh.Name), StyleName: "TableStyleLight1", ShowRowStripes: &showStripes}); err != nil {
			return n, err
		}
	}
	return n, sw.Flush()
}

// tableName turns a sheet name into a valid Excel table name.
func tableName(sheet string) string {
	b := []rune("t_")
	for _, r := range sheet {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b = append(b, r)
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}

// cellValue maps a database value to what excelize writes: numbers stay
// numbers, NULL stays an empty cell.
func cellValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return string(x)
	case int32:
		return int64(x)
	default:
		return x
	}
}

// printLayout makes a sheet print landscape, one page wide. It must be set
// before a stream writer takes over the sheet.
func printLayout(f *excelize.File, sheet string) error {
	landscape, one, zero := "landscape", 1, 0
	fit := true
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &zero}); err != nil {
		return err
	}
	return f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit})
}
