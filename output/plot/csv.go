package plot

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// defaultPartialNote is what a partial value is called when the chart does
// not say which part of the period it covers.
const defaultPartialNote = "part of the period only"

func partialNote(c Chart) string {
	if c.PartialNote != "" {
		return c.PartialNote
	}
	return defaultPartialNote
}

// hasPartial reports whether s has a value marked partial.
func hasPartial(s Series) bool {
	for j, p := range s.Partial {
		if p && j < len(s.Values) && s.Values[j] != nil {
			return true
		}
	}
	return false
}

func isPartial(s Series, j int) bool {
	return j < len(s.Partial) && s.Partial[j]
}

// csvHeader is the header row of the chart's CSV; see the package
// documentation for the convention.
func csvHeader(c Chart) []string {
	first := "period"
	if c.XTitle != "" {
		first = strings.ToLower(c.XTitle)
	}
	h := []string{first}
	for _, s := range c.Series {
		name := s.Name
		if c.Percent && !strings.Contains(name, "%") {
			name += " (%)"
		}
		h = append(h, name)
	}
	for _, s := range c.Series {
		if hasPartial(s) {
			h = append(h, s.Name+" partial period")
		}
	}
	return h
}

// WriteCSV writes the numbers c draws as one table: a header row, then
// one row per category. It writes nothing if c is not valid.
func WriteCSV(w io.Writer, c Chart) error {
	if err := Validate(c); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader(c)); err != nil {
		return fmt.Errorf("write CSV of chart %s: %w", c.ID, err)
	}
	note := partialNote(c)
	row := make([]string, 0, len(c.Series)*2+1)
	for j, cat := range c.Categories {
		row = append(row[:0], cat)
		for _, s := range c.Series {
			cell := ""
			if v := s.Values[j]; v != nil {
				cell = csvNumber(c, *v)
			}
			row = append(row, cell)
		}
		for _, s := range c.Series {
			if !hasPartial(s) {
				continue
			}
			cell := ""
			if isPartial(s, j) {
				cell = note
			}
			row = append(row, cell)
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write CSV of chart %s row %q: %w", c.ID, cat, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV of chart %s: %w", c.ID, err)
	}
	return nil
}
