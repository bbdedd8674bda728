package plot

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// Kinds of chart.
const (
	KindLine   = "line"
	KindColumn = "column"
)

// MaxSeries is the number of series a chart may hold: the palette has as
// many colours that stay apart for colour-blind readers.
const MaxSeries = len(palette)

var idPattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// ValidationError is one thing wrong with a chart, and where.
type ValidationError struct {
	// Chart is the chart's ID (as given, even if it is itself wrong).
	Chart string
	// Series is the 1-based position of the series, 0 for the chart as a
	// whole; SeriesName is its name.
	Series     int
	SeriesName string
	// Problem says what is wrong, in words.
	Problem string
}

// Error names the chart, the series if any, and the problem.
func (e *ValidationError) Error() string {
	if e.Series == 0 {
		return fmt.Sprintf("chart %q: %s", e.Chart, e.Problem)
	}
	return fmt.Sprintf("chart %q series %d %q: %s", e.Chart, e.Series, e.SeriesName, e.Problem)
}

// Validate reports everything wrong with c, as *ValidationError values
// joined with errors.Join, or nil. Every writer of this package calls it
// first and draws nothing from a chart it rejects.
func Validate(c Chart) error {
	var errs []error
	bad := func(series int, format string, args ...any) {
		e := &ValidationError{Chart: c.ID, Series: series, Problem: fmt.Sprintf(format, args...)}
		if series > 0 {
			e.SeriesName = c.Series[series-1].Name
		}
		errs = append(errs, e)
	}

	if !idPattern.MatchString(c.ID) {
		bad(0, "ID %q is not a plain lower-case name (a-z, 0-9, _)", c.ID)
	}
	if c.Title == "" {
		bad(0, "no title")
	}
	if c.Source == "" {
		bad(0, "no source")
	}
	if c.Kind != KindLine && c.Kind != KindColumn {
		bad(0, "kind %q is neither %q nor %q", c.Kind, KindLine, KindColumn)
	}
	texts := map[string]string{
		"title": c.Title, "subtitle": c.Subtitle, "unit": c.Unit, "x title": c.XTitle,
		"source": c.Source, "partial note": c.PartialNote,
	}
	for _, field := range []string{"title", "subtitle", "unit", "x title", "source", "partial note"} {
		if problem := textProblem(texts[field]); problem != "" {
			bad(0, "%s %s", field, problem)
		}
	}
	for i, n := range c.Notes {
		if problem := textProblem(n); problem != "" || n == "" {
			if problem == "" {
				problem = "is empty"
			}
			bad(0, "note %d %s", i+1, problem)
		}
	}

	if len(c.Categories) == 0 {
		bad(0, "no categories")
	}
	seen := map[string]bool{}
	for i, cat := range c.Categories {
		switch {
		case cat == "":
			bad(0, "category %d is empty", i+1)
		case textProblem(cat) != "":
			bad(0, "category %d %s", i+1, textProblem(cat))
		case seen[cat]:
			bad(0, "category %q appears twice", cat)
		}
		seen[cat] = true
	}

	switch {
	case len(c.Series) == 0:
		bad(0, "no series")
	case len(c.Series) > MaxSeries:
		bad(0, "%d series, more than the %d a reader can tell apart", len(c.Series), MaxSeries)
	}
	values := 0
	for i, s := range c.Series {
		n := i + 1
		if s.Name == "" {
			bad(n, "no name (the legend and the CSV header need one)")
		} else if problem := textProblem(s.Name); problem != "" {
			bad(n, "name %s", problem)
		}
		if len(s.Values) != len(c.Categories) {
			bad(n, "%d values for %d categories; want one value (or nil) per category", len(s.Values), len(c.Categories))
		}
		if s.Partial != nil && len(s.Partial) != len(c.Categories) {
			bad(n, "%d partial flags for %d categories; want nil or one per category", len(s.Partial), len(c.Categories))
		}
		for j, v := range s.Values {
			cat := category(c, j)
			if v == nil {
				if j < len(s.Partial) && s.Partial[j] {
					bad(n, "category %s is marked partial but has no value", cat)
				}
				continue
			}
			if math.IsNaN(*v) || math.IsInf(*v, 0) {
				bad(n, "category %s: value %v is not a number; use nil for a missing value", cat, *v)
				continue
			}
			values++
		}
	}
	if len(c.Series) > 0 && values == 0 {
		bad(0, "no values: every series is empty")
	}

	if len(errs) == 0 {
		headers := map[string]bool{}
		for _, h := range csvHeader(c) {
			if headers[h] {
				bad(0, "two CSV columns would be named %q; rename a series", h)
			}
			headers[h] = true
		}
	}
	return errors.Join(errs...)
}

// category names the j-th category for an error message, even past the end.
func category(c Chart, j int) string {
	if j < len(c.Categories) {
		return fmt.Sprintf("%q", c.Categories[j])
	}
	return fmt.Sprintf("#%d", j+1)
}

// textProblem says why s cannot be drawn or put in XML, or "".
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("holds the control character %U", r)
		}
	}
	return ""
}
