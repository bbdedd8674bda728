package plot

import (
	"fmt"
	"strings"
)

// Describe says in words what c shows, for a reader who cannot see the
// picture: the kind of chart and its span, then for each series its
// latest value and period, its highest whole-period value, its missing
// periods and its partial ones. The SVG carries it as its <desc>; a page
// can use it as the PNG's alt text.
func Describe(c Chart) (string, error) {
	if err := Validate(c); err != nil {
		return "", fmt.Errorf("describe: %w", err)
	}
	return describe(c), nil
}

func describe(c Chart) string {
	var b strings.Builder
	kind := "Line chart"
	if c.Kind == KindColumn {
		kind = "Column chart"
	}
	b.WriteString(kind)
	if c.Unit != "" {
		b.WriteString(" of " + c.Unit)
	}
	if c.XTitle != "" {
		b.WriteString(" by " + strings.ToLower(c.XTitle))
	}
	first, last := c.Categories[0], c.Categories[len(c.Categories)-1]
	if first == last {
		fmt.Fprintf(&b, ", %s.", first)
	} else {
		fmt.Fprintf(&b, ", %s to %s.", first, last)
	}

	// Periods that no series has are said once for the chart.
	noneHas := make([]bool, len(c.Categories))
	for j := range c.Categories {
		noneHas[j] = true
		for _, s := range c.Series {
			if s.Values[j] != nil {
				noneHas[j] = false
			}
		}
	}
	if gaps := spans(c.Categories, noneHas); gaps != "" {
		fmt.Fprintf(&b, " No data for %s.", gaps)
	}

	note := partialNote(c)
	for _, s := range c.Series {
		b.WriteString(" " + s.Name + ":")
		latest := -1
		for j := len(s.Values) - 1; j >= 0; j-- {
			if s.Values[j] != nil {
				latest = j
				break
			}
		}
		if latest < 0 {
			b.WriteString(" no data.")
			continue
		}
		fmt.Fprintf(&b, " latest %s in %s", valueLabel(c, *s.Values[latest]), c.Categories[latest])
		if isPartial(s, latest) {
			fmt.Fprintf(&b, " (%s)", note)
			for j := latest - 1; j >= 0; j-- {
				if s.Values[j] != nil && !isPartial(s, j) {
					fmt.Fprintf(&b, ", latest whole period %s in %s", valueLabel(c, *s.Values[j]), c.Categories[j])
					break
				}
			}
		}
		high := -1
		for j, v := range s.Values {
			if v != nil && !isPartial(s, j) && (high < 0 || drawn(c, *v) > drawn(c, *s.Values[high])) {
				high = j
			}
		}
		if high >= 0 && high != latest {
			fmt.Fprintf(&b, "; highest %s in %s", valueLabel(c, *s.Values[high]), c.Categories[high])
		}
		missing := make([]bool, len(c.Categories))
		partial := make([]bool, len(c.Categories))
		for j, v := range s.Values {
			missing[j] = v == nil && !noneHas[j]
			partial[j] = v != nil && isPartial(s, j)
		}
		if gaps := spans(c.Categories, missing); gaps != "" {
			fmt.Fprintf(&b, "; no data for %s", gaps)
		}
		if parts := spans(c.Categories, partial); parts != "" {
			fmt.Fprintf(&b, "; %s: %s", parts, note)
		}
		b.WriteString(".")
	}
	return b.String()
}

// spans lists the categories whose flag is set, runs of neighbours as
// "2015 to 2020": "2011, 2015 to 2020 and 2024".
func spans(cats []string, set []bool) string {
	var parts []string
	for j := 0; j < len(cats); j++ {
		if !set[j] {
			continue
		}
		k := j
		for k+1 < len(cats) && set[k+1] {
			k++
		}
		switch {
		case k == j:
			parts = append(parts, cats[j])
		case k == j+1:
			parts = append(parts, cats[j], cats[k])
		default:
			parts = append(parts, cats[j]+" to "+cats[k])
		}
		j = k
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
