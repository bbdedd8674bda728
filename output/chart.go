package output

import (
	"context"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// writeChart writes a chart sheet: the query's rows as a small table at A1
// and, to its right, a native chart whose series point at those cells, so
// that the chart stays true to the numbers beside it.
func (wb *workbook) writeChart(ctx context.Context, c ChartSheet) (int64, error) {
	f := wb.f
	if _, err := f.NewSheet(c.Name); err != nil {
		return 0, err
	}
	if err := printLayout(f, c.Name, 0, 0); err != nil {
		return 0, err
	}
	rows, vals, ptrs, err := openSheetQuery(ctx, c.Query, len(c.Columns))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	ncol := len(vals)
	var data [][]any
	for rows.Next() {
		if len(data) == ChartMaxRows {
			return 0, fmt.Errorf("query returns more than %d rows, too many points for a chart", ChartMaxRows)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("row %d: %w", len(data)+1, err)
		}
		r := make([]any, ncol)
		for i, v := range vals {
			r[i] = cellValue(v)
		}
		data = append(data, r)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(data) == 0 {
		return 0, fmt.Errorf("query returns no rows: nothing to draw")
	}

	header := make([]any, ncol)
	for i, col := range c.Columns {
		header[i] = col.title()
	}
	if err := f.SetSheetRow(c.Name, "A1", &header); err != nil {
		return 0, err
	}
	for i, r := range data {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(c.Name, cell, &r); err != nil {
			return 0, err
		}
	}
	widths := fitWidths(c.Columns, data)
	last := len(data) + 1
	for i, col := range c.Columns {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(c.Name, name, name, widths[i]); err != nil {
			return 0, err
		}
		if err := f.SetCellStyle(c.Name, name+"2", fmt.Sprintf("%s%d", name, last), wb.st.byFormat[col.Format]); err != nil {
			return 0, err
		}
	}
	end, _ := excelize.CoordinatesToCellName(ncol, 1)
	if err := f.SetCellStyle(c.Name, "A1", end, wb.st.header); err != nil {
		return 0, err
	}
	if err := f.SetRowHeight(c.Name, 1, headerHeight(c.Columns, widths)); err != nil {
		return 0, err
	}
	if err := f.SetPanes(c.Name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return 0, err
	}

	chart := chartOf(c, last)
	anchor, _ := excelize.CoordinatesToCellName(ncol+2, 2)
	if err := f.AddChart(c.Name, anchor, chart); err != nil {
		return 0, fmt.Errorf("chart: %w", err)
	}
	wb.contents[c.Name] = contentsEntry{what: c.Title, rows: int64(len(data))}
	return int64(len(data)), nil
}

// chartOf describes the chart of c, whose data fill rows 2 to last.
func chartOf(c ChartSheet, last int) *excelize.Chart {
	ref := func(col, from, to int) string {
		a, _ := excelize.CoordinatesToCellName(col, from, true)
		if from == to {
			return quoteSheet(c.Name) + "!" + a
		}
		b, _ := excelize.CoordinatesToCellName(col, to, true)
		return quoteSheet(c.Name) + "!" + a + ":" + b
	}
	// Axis labels in near-black at 10 pt: excelize's default is a 9 pt
	// grey that is hard to read on screen and on paper.
	labels := excelize.Font{Color: chartInk, Size: 10}
	axisTitle := func(text string) excelize.ChartTitle {
		return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: text, Font: &excelize.Font{Color: chartInk, Size: 10, Bold: true}}}}
	}
	varyColors := false
	ch := &excelize.Chart{
		Type:       excelize.Line,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: c.Title, Font: &excelize.Font{Bold: true, Size: 13, Color: chartInk}}}},
		Dimension:  excelize.ChartDimension{Width: 720, Height: 400},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		VaryColors: &varyColors, // one series, one colour: a colour per bar would suggest categories
		XAxis: excelize.ChartAxis{
			Font:  labels,
			Title: axisTitle(c.Columns[0].title()),
		},
		YAxis: excelize.ChartAxis{
			MajorGridLines: true,
			NumFmt:         excelize.ChartNumFmt{CustomNumFmt: axisFormat(c.Columns[1].Format)},
			Font:           labels,
			Title:          axisTitle(c.Columns[1].title()),
		},
		// A period without data is an empty slot on the axis, not a
		// bar or a line joining its neighbours.
		ShowBlanksAs: "gap",
	}
	if c.Kind == ChartColumn {
		ch.Type = excelize.Col
	}
	if len(c.Columns) == 2 {
		ch.Legend.Position = "none" // the title says what the one series is
	}
	for i := 1; i < len(c.Columns); i++ {
		s := excelize.ChartSeries{
			Name:       ref(i+1, 1, 1),
			Categories: ref(1, 2, last),
			Values:     ref(i+1, 2, last),
		}
		if c.Kind == ChartLine {
			s.Marker = excelize.ChartMarker{Symbol: "circle", Size: 5}
		}
		if len(c.Columns) == 2 {
			s.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{chartBar}}
		}
		ch.Series = append(ch.Series, s)
	}
	return ch
}

// Chart colours: text in near-black, a single series in a dark blue that
// keeps a contrast above 7:1 on white and prints well in grey.
const (
	chartInk = "1A1A1A"
	chartBar = "1F5F99"
)

// axisFormat is the number format of a value axis showing numbers of
// format f: whole numbers and percentages without decimals.
func axisFormat(f Format) string {
	switch f {
	case FormatCount, FormatYear, FormatInteger:
		return "#,##0"
	case FormatNumber:
		return "#,##0.0"
	case FormatRate:
		return "0%"
	case FormatChange:
		return "+0%;-0%;0%"
	}
	return "General"
}

// quoteSheet quotes a sheet name for a cell reference: 'Name'!A1.
func quoteSheet(name string) string {
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}
