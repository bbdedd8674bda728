package page

import (
	"fmt"
	"github.com/visastats/visastats/output/release"
	"math"
	"strings"
)

// chart is a bar chart of uniform visa applications per year (the count
// every workbook since 2009 has), laid out in Go and drawn
// by the template as inline SVG: no script, no external resources.
type chart struct {
	Width, Height int
	Title         string // the chart's accessible name
	Description   string // every number, for screen readers
	Bars          []bar
	Gaps          []gap // years without data, shown as such
	Grid          []gridLine
	BaseY         float64 // y of the zero line
	PlotLeft      float64
	PlotRight     float64
}

type bar struct {
	X, Y, W, H    float64
	LabelX        float64
	Year, Value   string
	ValueY, YearY float64
}

type gap struct {
	X, Y  float64
	Year  string
	YearY float64
}

type gridLine struct {
	Y     float64
	Label string
}

// Chart geometry in SVG user units; the SVG scales to the page width.
const (
	chartWidth  = 480
	chartHeight = 300
	plotLeft    = 44.0
	plotRight   = 476.0
	plotTop     = 28.0
	plotBottom  = 266.0
)

// newChart lays out the headline series, one slot per year from the first
// to the last, so a year missing from the data shows as a gap, not as a
// shorter interval.
func newChart(hs []release.Headline) *chart {
	if len(hs) == 0 {
		return nil
	}
	first, last := hs[0].Year, hs[0].Year
	var maxV int64
	byYear := map[int]int64{}
	// Reports written before uniform_applied was recorded chart their
	// applications (ATV + uniform) instead.
	uniform := hs[0].UniformApplied != nil
	what, whatShort := "uniform (short-stay) Schengen visas", "Uniform visa applications"
	if !uniform {
		what, whatShort = "Schengen visas", "Applications"
	}
	for _, h := range hs {
		first, last = min(first, h.Year), max(last, h.Year)
		v := h.Applications
		if uniform {
			v = h.UniformApplied
		}
		if v == nil {
			continue
		}
		maxV = max(maxV, *v)
		byYear[h.Year] = *v
	}
	if last-first > 60 { // not a yearly series this page can draw legibly
		return nil
	}
	step := niceStep(float64(maxV) / 5)
	top := math.Max(step, math.Ceil(float64(maxV)/step)*step)
	scale := (plotBottom - plotTop) / top
	c := &chart{Width: chartWidth, Height: chartHeight, BaseY: plotBottom, PlotLeft: plotLeft, PlotRight: plotRight}
	c.Title = fmt.Sprintf("Applications for %s lodged at consulates located in %s, by year, %d to %d", what, hs[0].Name, first, last)
	var desc []string
	for v := 0.0; v <= top+step/2; v += step {
		c.Grid = append(c.Grid, gridLine{Y: plotBottom - v*scale, Label: shortNumber(v)})
	}
	slots := last - first + 1
	slot := (plotRight - plotLeft) / float64(slots)
	w := slot * 0.7
	for i := range slots {
		year := first + i
		x := plotLeft + float64(i)*slot + (slot-w)/2
		v, ok := byYear[year]
		if !ok {
			c.Gaps = append(c.Gaps, gap{X: x + w/2, Y: plotBottom - 8, Year: fmt.Sprint(year), YearY: plotBottom + 22})
			desc = append(desc, fmt.Sprintf("%d: no data", year))
			continue
		}
		h := float64(v) * scale
		c.Bars = append(c.Bars, bar{X: x, Y: plotBottom - h, W: w, H: h, LabelX: x + w/2,
			Year: fmt.Sprint(year), Value: shortNumber(float64(v)), ValueY: plotBottom - h - 6, YearY: plotBottom + 22})
		desc = append(desc, fmt.Sprintf("%d: %s", year, thousands(v)))
	}
	c.Description = whatShort + " per year: " + strings.Join(desc, "; ") + "."
	return c
}

// niceStep rounds a grid interval up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// shortNumber writes 3467349 as "3.5M" and 520402 as "520k" for labels.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		s := fmt.Sprintf("%.1f", v/1e6)
		return strings.TrimSuffix(s, ".0") + "M"
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
