package plot

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	xfont "golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Geometry, in points. The canvas is 6.4 in wide so that the PNG at
// 100 dpi is exactly 640 px, a column of a page or a slide (a 1280 px
// image made each release 450 MB bigger for ~1,000 charts; the SVG is the
// sharp one at any size). Fonts are sized for
// the SVG scaled down to a 360 px phone screen (0.78 px a point): tick
// labels at 15 pt are 11.7 px there, the title 16.4 px, the source 10.9 px.
const (
	canvasWidth = 6.4 * vg.Inch
	margin      = vg.Length(14)
	plotHeight  = vg.Length(215) // the axes and the data
	unitGap     = vg.Length(6)   // room for the top tick label, centred on its grid line
	pngDPI      = 100
)

// palette is Okabe and Ito's colour-blind-safe set, without its yellow,
// which is too light on white.
var palette = [...]color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
}

var (
	inkColor   = color.RGBA{0x1A, 0x1A, 0x1A, 0xFF}
	mutedColor = color.RGBA{0x4D, 0x4D, 0x4D, 0xFF}
	gridColor  = color.RGBA{0xD9, 0xD9, 0xD9, 0xFF}
	baseColor  = color.RGBA{0x33, 0x33, 0x33, 0xFF}
)

// Line and marker sizes.
const (
	lineWidth     = vg.Length(2.5)
	dotRadius     = vg.Length(3.2)
	ringRadius    = vg.Length(4.6)
	ringWidth     = vg.Length(2)
	maxDotted     = 30 // up to this many categories every value gets a dot
	hatchSpacing  = vg.Length(4)
	hatchWidth    = vg.Length(1.2)
	partialTint   = 0.25 // share of the series colour in a partial column's fill
	columnOutline = vg.Length(1.2)
)

func sans(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

var (
	titleFont    = sans(21, true)
	subtitleFont = sans(16, false)
	legendFont   = sans(15, false)
	axisFont     = sans(15, false)
	footFont     = sans(14, false)
	naFont       = sans(12, false)
)

func face(f font.Font) font.Face {
	return gplot.DefaultTextHandler.Cache().Lookup(f, f.Size)
}

// textBlock is text wrapped to a width, drawn line by line from a top edge.
type textBlock struct {
	face  font.Face
	color color.Color
	lines []string
}

func newTextBlock(f font.Font, clr color.Color, width vg.Length, paragraphs ...string) textBlock {
	t := textBlock{face: face(f), color: clr}
	for _, p := range paragraphs {
		t.lines = append(t.lines, wrap(t.face, p, width)...)
	}
	return t
}

func (t textBlock) lineHeight() vg.Length { return t.face.Font.Size * 1.25 }

func (t textBlock) height() vg.Length { return vg.Length(len(t.lines)) * t.lineHeight() }

func (t textBlock) draw(c draw.Canvas, x, top vg.Length) {
	c.SetColor(t.color)
	ascent := t.face.Extents().Ascent
	for i, line := range t.lines {
		c.FillString(t.face, vg.Point{X: x, Y: top - ascent - vg.Length(i)*t.lineHeight()}, line)
	}
}

// wrap breaks s into lines no wider than width, at spaces; a word wider
// than width gets a line of its own.
func wrap(f font.Face, s string, width vg.Length) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case f.Width(line+" "+word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// legendItem is a swatch and its label.
type legendItem struct {
	label  string
	swatch func(c draw.Canvas, box vg.Rectangle)
}

const (
	swatchWidth = vg.Length(24)
	swatchGap   = vg.Length(6)
	itemGap     = vg.Length(16)
)

// figure is a validated chart laid out on the canvas; draw paints it on
// any vg canvas (SVG or image) of its size.
type figure struct {
	c      Chart
	height vg.Length

	title, subtitle, unit, foot textBlock
	legend                      [][]legendItem
	legendFace                  font.Face

	yMin, yMax float64
	yTicks     []gplot.Tick
	xTicks     []gplot.Tick
}

func newFigure(c Chart) (*figure, error) {
	if err := Validate(c); err != nil {
		return nil, err
	}
	f := &figure{c: c, legendFace: face(legendFont)}
	inner := canvasWidth - 2*margin

	f.title = newTextBlock(titleFont, inkColor, inner, c.Title)
	f.subtitle = newTextBlock(subtitleFont, mutedColor, inner, c.Subtitle)
	f.unit = newTextBlock(axisFont, mutedColor, inner, c.Unit)
	foot := []string{"Source: " + c.Source}
	for _, n := range c.Notes {
		foot = append(foot, "Note: "+n)
	}
	f.foot = newTextBlock(footFont, mutedColor, inner, foot...)
	f.layoutLegend(inner)
	f.scaleY()
	f.scaleX(inner)

	h := margin + f.title.height()
	if len(f.subtitle.lines) > 0 {
		h += 2 + f.subtitle.height()
	}
	h += 8
	if len(f.legend) > 0 {
		h += f.legendHeight() + 4
	}
	h += f.unit.height() + unitGap + plotHeight + 10 + f.foot.height() + margin
	f.height = vg.Length(math.Ceil(float64(h)))
	return f, nil
}

func (f *figure) legendRowHeight() vg.Length { return f.legendFace.Font.Size * 1.5 }

func (f *figure) legendHeight() vg.Length {
	return vg.Length(len(f.legend)) * f.legendRowHeight()
}

func (f *figure) legendItemWidth(it legendItem) vg.Length {
	return swatchWidth + swatchGap + f.legendFace.Width(it.label)
}

// layoutLegend lists one entry per series when there are several, and one
// for partial values when there are any, in rows that fit the width.
func (f *figure) layoutLegend(width vg.Length) {
	c := f.c
	var items []legendItem
	anyPartial := false
	for i, s := range c.Series {
		anyPartial = anyPartial || hasPartial(s)
		if len(c.Series) == 1 {
			continue
		}
		clr := palette[i]
		if c.Kind == KindColumn {
			items = append(items, legendItem{s.Name, func(dc draw.Canvas, box vg.Rectangle) {
				fillColumn(dc, squareIn(box), clr, false)
			}})
		} else {
			items = append(items, legendItem{s.Name, func(dc draw.Canvas, box vg.Rectangle) {
				mid := (box.Min.Y + box.Max.Y) / 2
				dc.StrokeLines(draw.LineStyle{Color: clr, Width: lineWidth}, []vg.Point{{X: box.Min.X, Y: mid}, {X: box.Max.X, Y: mid}})
				dot(dc, vg.Point{X: (box.Min.X + box.Max.X) / 2, Y: mid}, clr)
			}})
		}
	}
	if anyPartial {
		// One series: its own colour. Several: a neutral one that stands
		// for all of them.
		clr := baseColor
		if len(c.Series) == 1 {
			clr = palette[0]
		}
		note := partialNote(c)
		if c.Kind == KindColumn {
			items = append(items, legendItem{note, func(dc draw.Canvas, box vg.Rectangle) {
				fillColumn(dc, squareIn(box), clr, true)
			}})
		} else {
			items = append(items, legendItem{note, func(dc draw.Canvas, box vg.Rectangle) {
				ring(dc, vg.Point{X: (box.Min.X + box.Max.X) / 2, Y: (box.Min.Y + box.Max.Y) / 2}, clr)
			}})
		}
	}
	var row []legendItem
	x := vg.Length(0)
	for _, it := range items {
		w := f.legendItemWidth(it)
		if len(row) > 0 && x+w > width {
			f.legend = append(f.legend, row)
			row, x = nil, 0
		}
		row = append(row, it)
		x += w + itemGap
	}
	if len(row) > 0 {
		f.legend = append(f.legend, row)
	}
}

// squareIn is a square at the centre of box, a little lower than it.
func squareIn(box vg.Rectangle) vg.Rectangle {
	side := (box.Max.Y - box.Min.Y) * 0.8
	cx, cy := (box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2
	return vg.Rectangle{Min: vg.Point{X: cx - side/2, Y: cy - side/2}, Max: vg.Point{X: cx + side/2, Y: cy + side/2}}
}

// scaleY sets the value axis: from 0 (or below, for negative values) to a
// round number above the highest value.
func (f *figure) scaleY() {
	lo, hi := 0.0, 0.0
	for _, s := range f.c.Series {
		for _, v := range s.Values {
			if v != nil {
				d := drawn(f.c, *v)
				lo, hi = math.Min(lo, d), math.Max(hi, d)
			}
		}
	}
	min, max, step := niceScale(lo, hi, !f.c.Percent && wholeValues(f.c))
	decimals := stepDecimals(step)
	f.yMin, f.yMax = min, max
	for k := 0; ; k++ {
		v := min + float64(k)*step
		if v > max+step/2 {
			break
		}
		f.yTicks = append(f.yTicks, gplot.Tick{Value: v, Label: tickLabel(f.c, v, decimals)})
	}
}

func wholeValues(c Chart) bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != nil && *v != math.Trunc(*v) {
				return false
			}
		}
	}
	return true
}

// Category labels are thinned to every k-th one, counted back from the
// latest period so that it is always labelled.
var labelSteps = []int{1, 2, 3, 4, 5, 6, 10, 12, 20, 24, 25, 50, 100, 200, 500, 1000}

func (f *figure) scaleX(inner vg.Length) {
	tick := face(axisFont)
	yAxis := tick.Width(" ")
	for _, t := range f.yTicks {
		yAxis = max(yAxis, tick.Width(t.Label)+tick.Width(" "))
	}
	n := len(f.c.Categories)
	slot := (inner - yAxis) / vg.Length(n)
	widest := vg.Length(0)
	for _, cat := range f.c.Categories {
		widest = max(widest, tick.Width(cat))
	}
	step := labelSteps[len(labelSteps)-1]
	for _, k := range labelSteps {
		if vg.Length(k)*slot >= widest+8 {
			step = k
			break
		}
	}
	for j, cat := range f.c.Categories {
		label := ""
		if (n-1-j)%step == 0 {
			label = cat
		}
		f.xTicks = append(f.xTicks, gplot.Tick{Value: float64(j), Label: label})
	}
}

// draw paints the figure on a canvas of size canvasWidth × f.height,
// on a white ground unless the canvas has one already.
func (f *figure) draw(dc draw.Canvas, ground bool) {
	if ground {
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
	}

	left := dc.Min.X + margin
	inner := canvasWidth - 2*margin
	y := dc.Max.Y - margin
	f.title.draw(dc, left, y)
	y -= f.title.height()
	if len(f.subtitle.lines) > 0 {
		y -= 2
		f.subtitle.draw(dc, left, y)
		y -= f.subtitle.height()
	}
	y -= 8
	if len(f.legend) > 0 {
		f.drawLegend(dc, left, y)
		y -= f.legendHeight() + 4
	}
	f.unit.draw(dc, left, y)
	y -= f.unit.height() + unitGap

	area := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: left, Y: y - plotHeight},
		Max: vg.Point{X: left + inner, Y: y},
	}}
	f.plot().Draw(area)
	y -= plotHeight + 10

	f.foot.draw(dc, left, y)
}

func (f *figure) drawLegend(dc draw.Canvas, left, top vg.Length) {
	rowH := f.legendRowHeight()
	ext := f.legendFace.Extents()
	for r, row := range f.legend {
		mid := top - vg.Length(r)*rowH - rowH/2
		x := left
		for _, it := range row {
			box := vg.Rectangle{
				Min: vg.Point{X: x, Y: mid - f.legendFace.Font.Size/2},
				Max: vg.Point{X: x + swatchWidth, Y: mid + f.legendFace.Font.Size/2},
			}
			it.swatch(dc, box)
			dc.SetColor(inkColor)
			// Centre the capitals on the swatch.
			baseline := mid - (ext.Ascent-ext.Descent)/2 + ext.Descent*0.4
			dc.FillString(f.legendFace, vg.Point{X: x + swatchWidth + swatchGap, Y: baseline}, it.label)
			x += f.legendItemWidth(it) + itemGap
		}
	}
}

// plot builds the gonum plot of the axes and the data.
func (f *figure) plot() *gplot.Plot {
	p := gplot.New()
	p.BackgroundColor = nil
	hdlr := p.TextHandler
	label := func(xa text.XAlignment, ya text.YAlignment) text.Style {
		return text.Style{Color: mutedColor, Font: axisFont, XAlign: xa, YAlign: ya, Handler: hdlr}
	}

	p.X.Min, p.X.Max = -0.5, float64(len(f.c.Categories))-0.5
	p.X.Padding = 0
	p.X.LineStyle.Width = 0 // the data plotter draws the zero line
	p.X.Tick.Marker = gplot.ConstantTicks(f.xTicks)
	p.X.Tick.Label = label(draw.XCenter, draw.YTop)
	p.X.Tick.LineStyle = draw.LineStyle{Color: baseColor, Width: 1}
	p.X.Tick.Length = 6
	p.X.Label.Text = f.c.XTitle
	p.X.Label.TextStyle = label(draw.XCenter, draw.YBottom)
	p.X.Label.Padding = 4

	p.Y.Min, p.Y.Max = f.yMin, f.yMax
	p.Y.Padding = 0
	p.Y.LineStyle.Width = 0
	p.Y.Tick.Marker = gplot.ConstantTicks(f.yTicks)
	p.Y.Tick.Label = label(draw.XRight, draw.YCenter)
	p.Y.Tick.Length = 0
	p.Y.Label.TextStyle = label(draw.XCenter, draw.YBottom)

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal = draw.LineStyle{Color: gridColor, Width: 0.8}
	p.Add(grid, dataPlotter{f})
	return p
}

// dataPlotter draws the series, the zero line and the gap labels.
type dataPlotter struct{ f *figure }

// Plot implements gonum's plot.Plotter.
func (d dataPlotter) Plot(c draw.Canvas, p *gplot.Plot) {
	f := d.f
	trX, trY := p.Transforms(&c)
	if f.c.Kind == KindColumn {
		d.columns(c, trX, trY)
	}
	zero := trY(0)
	c.StrokeLines(draw.LineStyle{Color: baseColor, Width: 1.2}, []vg.Point{{X: c.Min.X, Y: zero}, {X: c.Max.X, Y: zero}})
	if f.c.Kind == KindLine {
		d.lines(c, trX, trY)
	}
}

// lines draws each series as polylines over runs of whole values: a
// missing value breaks the line, and a partial value stands alone as a
// hollow ring, never joined to whole periods.
func (d dataPlotter) lines(c draw.Canvas, trX, trY func(float64) vg.Length) {
	f := d.f
	n := len(f.c.Categories)
	for i, s := range f.c.Series {
		clr := palette[i]
		at := func(j int) vg.Point {
			return vg.Point{X: trX(float64(j)), Y: trY(drawn(f.c, *s.Values[j]))}
		}
		whole := func(j int) bool { return j >= 0 && j < n && s.Values[j] != nil && !isPartial(s, j) }
		var runs [][]vg.Point
		for j := 0; j < n; j++ {
			if !whole(j) {
				continue
			}
			var run []vg.Point
			for ; whole(j); j++ {
				run = append(run, at(j))
			}
			if len(run) > 1 {
				runs = append(runs, run)
			}
		}
		c.StrokeLines(draw.LineStyle{Color: clr, Width: lineWidth}, runs...)
		for j := 0; j < n; j++ {
			switch {
			case s.Values[j] == nil:
			case isPartial(s, j):
				ring(c, at(j), clr)
			case n <= maxDotted || (!whole(j-1) && !whole(j+1)):
				dot(c, at(j), clr)
			}
		}
	}
}

// columns draws the series side by side in each category; a missing value
// draws nothing (and "n/a" where no series has a value), a partial one a
// hatched, lighter column.
func (d dataPlotter) columns(c draw.Canvas, trX, trY func(float64) vg.Length) {
	f := d.f
	n := len(f.c.Categories)
	k := len(f.c.Series)
	slot := trX(1) - trX(0)
	group := slot * 0.75
	bar := group / vg.Length(k)
	inset := vg.Length(0)
	if k > 1 {
		inset = min(bar*0.08, 1.5)
	}
	na := face(naFont)
	for j := 0; j < n; j++ {
		x0 := trX(float64(j)) - group/2
		empty := true
		for i, s := range f.c.Series {
			v := s.Values[j]
			if v == nil {
				continue
			}
			empty = false
			y0, y1 := trY(0), trY(drawn(f.c, *v))
			if y1 < y0 {
				y0, y1 = y1, y0
			}
			r := vg.Rectangle{
				Min: vg.Point{X: x0 + vg.Length(i)*bar + inset, Y: y0},
				Max: vg.Point{X: x0 + vg.Length(i+1)*bar - inset, Y: y1},
			}
			fillColumn(c, r, palette[i], isPartial(s, j))
		}
		if empty && na.Width("n/a") <= slot*0.9 {
			c.SetColor(mutedColor)
			c.FillString(na, vg.Point{X: trX(float64(j)) - na.Width("n/a")/2, Y: trY(0) + 3}, "n/a")
		}
	}
}

// fillColumn fills r in clr, or for a partial value fills it with a tint,
// hatches it and outlines it.
func fillColumn(c draw.Canvas, r vg.Rectangle, clr color.RGBA, partial bool) {
	pts := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
	if !partial {
		c.FillPolygon(clr, pts)
		return
	}
	c.FillPolygon(tint(clr, partialTint), pts)
	var hatch [][]vg.Point
	// Lines x - y = k at 45 degrees, clipped to r.
	for k := r.Min.X - r.Max.Y; k < r.Max.X-r.Min.Y; k += hatchSpacing {
		xs, xe := max(r.Min.X, r.Min.Y+k), min(r.Max.X, r.Max.Y+k)
		if xe-xs > 0.5 {
			hatch = append(hatch, []vg.Point{{X: xs, Y: xs - k}, {X: xe, Y: xe - k}})
		}
	}
	c.StrokeLines(draw.LineStyle{Color: clr, Width: hatchWidth}, hatch...)
	outline := append(pts, pts[0])
	c.StrokeLines(draw.LineStyle{Color: clr, Width: columnOutline}, outline)
}

// tint mixes share of clr with white.
func tint(clr color.RGBA, share float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v)*share + 255*(1-share))) }
	return color.RGBA{mix(clr.R), mix(clr.G), mix(clr.B), 0xFF}
}

func circle(center vg.Point, r vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: center.X + r, Y: center.Y})
	p.Arc(center, r, 0, 2*math.Pi)
	p.Close()
	return p
}

// dot marks a whole value.
func dot(c draw.Canvas, at vg.Point, clr color.Color) {
	c.SetColor(clr)
	c.Fill(circle(at, dotRadius))
}

// ring marks a partial value: hollow, white inside so that grid lines do
// not run through it.
func ring(c draw.Canvas, at vg.Point, clr color.Color) {
	p := circle(at, ringRadius)
	c.SetColor(color.White)
	c.Fill(p)
	c.SetLineStyle(draw.LineStyle{Color: clr, Width: ringWidth})
	c.Stroke(p)
}

// paint lays c out and draws it on a canvas made by newCanvas (white
// already, or to be painted white), turning a panic of the drawing library
// into an error.
func paint[C vg.CanvasSizer](c Chart, newCanvas func(w, h vg.Length) C, white bool) (cv C, f *figure, err error) {
	f, err = newFigure(c)
	if err != nil {
		return cv, nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw chart %s: %v", c.ID, r)
		}
	}()
	cv = newCanvas(canvasWidth, f.height)
	f.draw(draw.New(cv), !white)
	return cv, f, nil
}
