package output

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/output/plot"
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

// ChartsSheet is a sheet of several native Excel charts, each drawn from a
// small table of the numbers it shows, one block below the other: the
// charts of a country's profile (package plot's Chart, the same series the
// profile page draws), so that a topic workbook and the page agree. Each
// block has the chart's title, subtitle, unit and source above its table,
// its notes below, and the chart beside the table; a value covering part
// of its period is marked in a column of its own, as in the chart's CSV.
type ChartsSheet struct {
	Name   string
	Charts []plot.Chart
}

// Geometry of a ChartsSheet: the chart is chartsWidth by chartsHeight
// pixels, about chartsRows rows of the default height.
const (
	chartsWidth  = 720
	chartsHeight = 400
	chartsRows   = 21
)

// writeChartGroup writes g in memory (charts cannot be added to a streamed
// sheet) and returns the rows of numbers it holds.
func (wb *workbook) writeChartGroup(g ChartsSheet) (int64, error) {
	f := wb.f
	if _, err := f.NewSheet(g.Name); err != nil {
		return 0, err
	}
	if err := printLayout(f, g.Name, 0, 0); err != nil {
		return 0, err
	}
	widest := 0
	for _, c := range g.Charts {
		widest = max(widest, len(chartTable(c)[0]))
	}
	for i := 1; i <= widest; i++ {
		name, _ := excelize.ColumnNumberToName(i)
		width := 18.0
		if i == 1 {
			width = 10
		}
		if err := f.SetColWidth(g.Name, name, name, width); err != nil {
			return 0, err
		}
	}
	text := func(row int, s string, style int) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetCellStr(g.Name, cell, s); err != nil {
			return err
		}
		if style != 0 {
			return f.SetCellStyle(g.Name, cell, cell, style)
		}
		return nil
	}
	var numbers int64
	var titles []string
	row := 1
	for n, c := range g.Charts {
		titles = append(titles, c.Title)
		if err := text(row, c.Title, wb.st.heading); err != nil {
			return 0, err
		}
		row++
		for _, line := range []string{c.Subtitle, "Unit: " + c.Unit + ". Source: " + c.Source + "."} {
			if line == "" {
				continue
			}
			if err := text(row, line, 0); err != nil {
				return 0, err
			}
			row++
		}
		table := chartTable(c)
		head := row
		for i, r := range table {
			cell, _ := excelize.CoordinatesToCellName(1, head+i)
			if err := f.SetSheetRow(g.Name, cell, &r); err != nil {
				return 0, err
			}
		}
		last := head + len(table) - 1
		end, _ := excelize.CoordinatesToCellName(len(table[0]), head)
		if err := f.SetCellStyle(g.Name, "A"+strconv.Itoa(head), end, wb.st.header); err != nil {
			return 0, err
		}
		valueStyle := wb.st.byFormat[FormatCount]
		if c.Percent {
			valueStyle = wb.st.byFormat[FormatRate]
		}
		from, _ := excelize.CoordinatesToCellName(2, head+1)
		to, _ := excelize.CoordinatesToCellName(1+len(c.Series), last)
		if err := f.SetCellStyle(g.Name, from, to, valueStyle); err != nil {
			return 0, err
		}
		anchor, _ := excelize.CoordinatesToCellName(widest+2, head)
		if err := f.AddChart(g.Name, anchor, plotChartOf(g.Name, c, head, last)); err != nil {
			return 0, fmt.Errorf("chart %d (%s): %w", n+1, c.ID, err)
		}
		numbers += int64(len(table) - 1)
		row = max(last+1, head+chartsRows) + 1
		for _, note := range c.Notes {
			if err := text(row, note, 0); err != nil {
				return 0, err
			}
			row++
		}
		row += 2
	}
	wb.contents[g.Name] = contentsEntry{what: "Charts, each beside the numbers it draws: " + strings.Join(titles, "; "), rows: numbers}
	return numbers, nil
}

// chartTable is the header and rows of the numbers c draws: the category,
// a value column per series (fractions for a percentage chart, formatted
// as percentages), then for each series with a partial value a column
// saying which values cover part of their period, as the chart's CSV.
func chartTable(c plot.Chart) [][]any {
	head := []any{c.XTitle}
	if c.XTitle == "" {
		head[0] = "Period"
	}
	var partial []int
	for i, s := range c.Series {
		head = append(head, s.Name)
		for j, p := range s.Partial {
			if p && s.Values[j] != nil {
				partial = append(partial, i)
				break
			}
		}
	}
	note := c.PartialNote
	if note == "" {
		note = "part of the period only"
	}
	for _, i := range partial {
		head = append(head, c.Series[i].Name+" partial period")
	}
	out := [][]any{head}
	for j, cat := range c.Categories {
		r := []any{cat}
		if y, err := strconv.Atoi(cat); err == nil {
			r[0] = y
		}
		for _, s := range c.Series {
			if v := s.Values[j]; v != nil {
				r = append(r, *v)
			} else {
				r = append(r, nil)
			}
		}
		for _, i := range partial {
			if s := c.Series[i]; j < len(s.Partial) && s.Partial[j] {
				r = append(r, note)
			} else {
				r = append(r, nil)
			}
		}
		out = append(out, r)
	}
	return out
}

// plotChartOf describes the native chart of c, whose header is on row
// head and whose numbers fill the rows below it to last.
func plotChartOf(sheet string, c plot.Chart, head, last int) *excelize.Chart {
	ref := func(col, from, to int) string {
		a, _ := excelize.CoordinatesToCellName(col, from, true)
		if from == to {
			return quoteSheet(sheet) + "!" + a
		}
		b, _ := excelize.CoordinatesToCellName(col, to, true)
		return quoteSheet(sheet) + "!" + a + ":" + b
	}
	labels := excelize.Font{Color: chartInk, Size: 10}
	axisTitle := func(text string) excelize.ChartTitle {
		return excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: text, Font: &excelize.Font{Color: chartInk, Size: 10, Bold: true}}}}
	}
	format := FormatCount
	if c.Percent {
		format = FormatRate
	}
	varyColors := false
	ch := &excelize.Chart{
		Type:       excelize.Line,
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: c.Title, Font: &excelize.Font{Bold: true, Size: 12, Color: chartInk}}}},
		Dimension:  excelize.ChartDimension{Width: chartsWidth, Height: chartsHeight},
		Legend:     excelize.ChartLegend{Position: "bottom"},
		VaryColors: &varyColors,
		XAxis:      excelize.ChartAxis{Font: labels, Title: axisTitle(c.XTitle)},
		YAxis: excelize.ChartAxis{
			MajorGridLines: true,
			NumFmt:         excelize.ChartNumFmt{CustomNumFmt: axisFormat(format)},
			Font:           labels,
			Title:          axisTitle(c.Unit),
		},
		ShowBlanksAs: "gap",
	}
	if c.Kind == plot.KindColumn {
		ch.Type = excelize.Col
	}
	for i := range c.Series {
		cs := excelize.ChartSeries{
			Name:       ref(i+2, head, head),
			Categories: ref(1, head+1, last),
			Values:     ref(i+2, head+1, last),
			Line:       excelize.LineOptions{Width: 2.25},
		}
		if c.Kind == plot.KindLine {
			cs.Marker = excelize.ChartMarker{Symbol: "circle", Size: 5}
		}
		if len(c.Series) == 1 {
			cs.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{chartBar}}
		}
		ch.Series = append(ch.Series, cs)
	}
	if len(c.Series) == 1 {
		ch.Legend.Position = "none" // the title says what the one series is
	}
	return ch
}
