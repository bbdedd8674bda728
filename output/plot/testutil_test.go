package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The charts below carry real figures from ../shared/docs/DATA_FORMATS.md
// and EC_WORKBOOKS.md.

func num(v float64) *float64 { return &v }

// years returns the categories from..to.
func years(from, to int) []string {
	var ys []string
	for y := from; y <= to; y++ {
		ys = append(ys, fmt.Sprint(y))
	}
	return ys
}

// russiaApplications: applications at consulates located in Russia. The
// Commission published no 2011 file; 2015-2020 are left out here, so the
// line has three runs.
func russiaApplications() Chart {
	return Chart{
		ID:         "schengen_applications",
		Title:      "Schengen visa applications at consulates in Russia",
		Subtitle:   "at consulates located in Russia, whatever the applicant's nationality",
		Unit:       "applications",
		XTitle:     "Year",
		Kind:       KindLine,
		Categories: years(2009, 2023),
		Series: []Series{{
			Name: "Applications",
			Values: []*float64{
				num(3241940), num(4222551), nil, num(6069001), num(6995221), num(5768182),
				nil, nil, nil, nil, nil, nil,
				num(536287), num(687264), num(520402),
			},
		}},
		Source: "European Commission, visa statistics for consulates 2009-2023",
		Notes: []string{
			"2009-2014: uniform (C) visas; 2021-2023: uniform and airport transit visas.",
			"No statistics were published for 2011.",
		},
	}
}

// unhcrApplications: asylum applications by Russians in 45 European
// countries, from a mid-year release whose 2023 covers January-June.
func unhcrApplications(kind string) Chart {
	return Chart{
		ID:          "unhcr_applications",
		Title:       "Asylum applications by Russian citizens in Europe",
		Subtitle:    "45 countries of asylum, persons",
		Unit:        "applications",
		XTitle:      "Year",
		Kind:        kind,
		Categories:  years(2021, 2023),
		Series:      []Series{{Name: "Applications", Values: []*float64{num(12159), num(20234), num(14899)}, Partial: []bool{false, false, true}}},
		Source:      "UNHCR Refugee Data Finder, Mid-Year Trends 2023",
		Notes:       []string{"2023 covers January to June only: do not compare it with whole years."},
		PartialNote: "Jan-Jun only",
	}
}

// franceRecognition: the share of decisions on Russians' claims in France
// that recognised them (770/2,846, 1,171/4,647, 1,150/4,650).
func franceRecognition() Chart {
	return Chart{
		ID:         "france_recognition",
		Title:      "Recognition rate of Russians' asylum claims in France",
		Unit:       "% of decisions",
		Percent:    true,
		XTitle:     "Year",
		Kind:       KindLine,
		Categories: years(2022, 2024),
		Series: []Series{{Name: "Recognition rate", Values: []*float64{
			num(770.0 / 2846), num(1171.0 / 4647), num(1150.0 / 4650),
		}}},
		Source: "UNHCR, refugees package 2025.12.1",
	}
}

// franceDecisions: two series of columns.
func franceDecisions() Chart {
	return Chart{
		ID:         "france_decisions",
		Title:      "Asylum decisions on Russians in France",
		Subtitle:   "all stages, persons",
		Unit:       "decisions",
		XTitle:     "Year",
		Kind:       KindColumn,
		Categories: years(2021, 2024),
		Series: []Series{
			{Name: "All decisions", Values: []*float64{nil, num(2846), num(4647), num(4650)}},
			{Name: "Recognised", Values: []*float64{nil, num(770), num(1171), num(1150)}},
		},
		Source: "UNHCR, refugees package 2025.12.1",
	}
}

// europeAndFrance: two lines, one with a partial last value.
func europeAndFrance() Chart {
	return Chart{
		ID:         "asylum_applications",
		Title:      "Asylum applications by Russian citizens",
		Unit:       "applications",
		XTitle:     "Year",
		Kind:       KindLine,
		Categories: years(2021, 2024),
		Series: []Series{
			{Name: "45 European countries", Values: []*float64{num(12159), num(20234), num(14899), nil}, Partial: []bool{false, false, true, false}},
			{Name: "France, first instance", Values: []*float64{nil, num(1804), num(2613), num(2513)}},
		},
		Source:      "UNHCR Refugee Data Finder, Mid-Year Trends 2023; UNHCR, refugees package 2025.12.1",
		PartialNote: "Jan-Jun only",
	}
}

// eurostatFirstTime: first-time applicants from Russia in the EU-28.
func eurostatFirstTime() Chart {
	return Chart{
		ID:         "eurostat_first_time",
		Title:      "First-time asylum applicants from Russia in the EU",
		Subtitle:   "EU-28",
		Unit:       "applicants",
		XTitle:     "Year",
		Kind:       KindColumn,
		Categories: years(2012, 2016),
		Series:     []Series{{Name: "First-time applicants", Values: []*float64{num(17445), num(35120), num(14030), num(18395), num(23050)}}},
		Source:     "Eurostat, migr_asyappctza",
	}
}

// allCharts is every fixture, by name.
func allCharts() map[string]Chart {
	return map[string]Chart{
		"russia applications line": russiaApplications(),
		"unhcr partial line":       unhcrApplications(KindLine),
		"unhcr partial column":     unhcrApplications(KindColumn),
		"france recognition rate":  franceRecognition(),
		"france decisions columns": franceDecisions(),
		"two lines one partial":    europeAndFrance(),
		"eurostat first-time":      eurostatFirstTime(),
	}
}

// svgNode is an element of a parsed SVG document.
type svgNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []svgNode  `xml:",any"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// walk calls fn on n and every element below it, in document order.
func (n svgNode) walk(fn func(svgNode)) {
	fn(n)
	for _, c := range n.Children {
		c.walk(fn)
	}
}

// parseSVG decodes the whole document with encoding/xml in strict mode and
// fails the test on any error or trailing content.
func parseSVG(t *testing.T, b []byte) svgNode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var root svgNode
	if err := d.Decode(&root); err != nil {
		t.Fatalf("SVG does not parse as XML: %v", err)
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG after the root element: %v", err)
		}
		if cd, ok := tok.(xml.CharData); !ok || strings.TrimSpace(string(cd)) != "" {
			t.Fatalf("SVG has content after the root element: %#v", tok)
		}
	}
	return root
}

// texts returns the character data of every <text> element.
func texts(root svgNode) []string {
	var out []string
	root.walk(func(n svgNode) {
		if n.XMLName.Local == "text" {
			out = append(out, n.Text)
		}
	})
	return out
}

// paths returns the d attributes of the <path> elements whose style has
// every property given in want, e.g. {"stroke": "#0072B2"}.
func paths(root svgNode, want map[string]string) []string {
	var out []string
	root.walk(func(n svgNode) {
		if n.XMLName.Local != "path" {
			return
		}
		style := map[string]string{}
		for _, decl := range strings.Split(n.attr("style"), ";") {
			if k, v, ok := strings.Cut(decl, ":"); ok {
				style[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		for k, v := range want {
			if style[k] != v {
				return
			}
		}
		out = append(out, n.attr("d"))
	})
	return out
}
