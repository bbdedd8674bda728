package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/visastats/visastats/output/page"
	"github.com/visastats/visastats/output/plot"
	"github.com/visastats/visastats/output/profile"
	"github.com/visastats/visastats/output/release"
	vsql "github.com/visastats/visastats/sql"
)

// Sections of a profile a chart belongs to.
const (
	sectionSchengen = "schengen"
	sectionAsylum   = "asylum"
	sectionOwn      = "own"
)

// profileChart is one chart of the country profiles. Its series are the
// table chart_<id>, which the transform sql/NNN_chart_<id>.sql builds for
// every country at once (columns country, series_order, series, year,
// value, partial, notes; a row without a year carries a note on the whole
// chart); this entry says what the chart is called and what a reader must
// know beside the notes the data give. The profile pages and the Charts
// sheet of a topic workbook draw the same charts from here. In the texts,
// {country} is the country's name.
type profileChart struct {
	id       string
	section  string
	kind     string // plot.KindLine or plot.KindColumn
	percent  bool
	title    string
	subtitle string
	unit     string
	// source is the publisher and its product; the years drawn follow.
	source string
	notes  []string
}

// profileCharts are the charts of a profile in the order shown.
var profileCharts = []profileChart{
	{
		id: "schengen_visas", section: sectionSchengen, kind: plot.KindLine,
		title:    "Schengen visas at consulates located in {country}",
		subtitle: "Uniform (short-stay) visa applications lodged and visas issued there, whatever the applicant's nationality",
		unit:     "applications, visas",
		source:   "European Commission, Visa statistics for consulates",
		notes: []string{
			"Lodged at the consulates located in {country}, not by its citizens; airport transit and limited territorial validity visas are in schengen_host_country_year.",
		},
	},
	{
		id: "schengen_refusal_rate", section: sectionSchengen, kind: plot.KindLine, percent: true,
		title:    "Refusal rate of Schengen visas at consulates located in {country}",
		subtitle: "Uniform visas not issued as a share of decisions, the European Commission's not-issued rate",
		unit:     "% of decisions",
		source:   "European Commission, Visa statistics for consulates",
		notes: []string{
			"N / (J + M + N): uniform visas not issued over uniform visas issued, limited territorial validity visas issued and uniform visas not issued; drawn only on at least 30 decisions.",
		},
	},
	{
		id: "schengen_states", section: sectionSchengen, kind: plot.KindLine,
		title:    "Which Schengen States receive the applications lodged in {country}",
		subtitle: "Uniform visa applications at the consulates located in {country}, by the Schengen State whose consulates received them",
		unit:     "applications",
		source:   "European Commission, Visa statistics for consulates",
		notes: []string{
			"A State without a consulate reporting there in a year has no point that year (not zero).",
		},
	},
	{
		id: "asylum_applications", section: sectionAsylum, kind: plot.KindLine,
		title:    "Asylum applications by citizens of {country}",
		subtitle: "In the EU and the main countries of asylum: UNHCR's applications beside Eurostat's first-time applicants",
		unit:     "persons",
		source:   "UNHCR, Refugee Data Finder; Eurostat, migr_asyappctza",
		notes: []string{
			"UNHCR: persons who applied in the year, any application type and procedure stage; Eurostat: first-time applicants, rounded to 5.",
		},
	},
	{
		id: "asylum_decisions", section: sectionAsylum, kind: plot.KindLine,
		title:    "Decisions on asylum applications by citizens of {country}",
		subtitle: "UNHCR at all procedure stages beside Eurostat at first instance, in the EU and the main countries of asylum",
		unit:     "persons",
		source:   "UNHCR, Refugee Data Finder; Eurostat, migr_asydcfsta",
		notes: []string{
			"UNHCR: decisions at all procedure stages (first instance and appeal), claims otherwise closed included; Eurostat: first-instance decisions, rounded to 5. Never added together.",
		},
	},
	{
		id: "asylum_recognition", section: sectionAsylum, kind: plot.KindLine, percent: true,
		title:    "Share of asylum decisions on citizens of {country} that grant protection",
		subtitle: "UNHCR's total protection rate at all procedure stages beside Eurostat's first-instance recognition rate",
		unit:     "% of decisions on the merits",
		source:   "UNHCR, Refugee Data Finder; Eurostat, migr_asydcfsta",
		notes: []string{
			"UNHCR: refugee status and complementary protection over those plus rejections; Eurostat: positive over positive plus rejected first-instance decisions; drawn only on at least 30 decisions. UNHCR's refugee recognition rate is in asylum_decisions_compared.",
		},
	},
	{
		id: "visas_issued_by_country", section: sectionOwn, kind: plot.KindColumn,
		title:    "Visas issued by {country}, as its Foreign Ministry published them",
		subtitle: "As reported by news agencies citing the Ministry, rounded as published",
		unit:     "visas",
		source:   "Foreign Ministry of {country} as reported (ru_mfa_visas_published)",
		notes: []string{
			"Figures the Ministry gave, as news agencies reported them (citations in ru_mfa_visas_published): not statistics of the Commission's kind.",
		},
	},
}

// profileChartTable is the table holding a chart's series.
func profileChartTable(id string) string { return "chart_" + id }

// chartPoint is one row of a chart_* table.
type chartPoint struct {
	country string
	order   sql.NullInt64
	series  sql.NullString
	year    sql.NullInt64
	value   sql.NullFloat64
	partial bool
	notes   []string
}

// countryChart is a chart drawn for one country, with its section.
type countryChart struct {
	section string
	chart   plot.Chart
}

// profileChartsOf reads the chart tables and returns, per country, the
// charts its profile draws in the order of profileCharts; only names one
// country ("" for all). A chart with values in fewer than two periods is
// not drawn: its figure is in the tables.
func profileChartsOf(ctx context.Context, conn *sql.Conn, only string) (map[string][]countryChart, error) {
	names, err := profileNames(ctx, conn, only)
	if err != nil {
		return nil, err
	}
	out := map[string][]countryChart{}
	for _, def := range profileCharts {
		points, err := readChartPoints(ctx, conn, def.id, only)
		if err != nil {
			return nil, err
		}
		for start := 0; start < len(points); {
			end := start
			for end < len(points) && points[end].country == points[start].country {
				end++
			}
			code := points[start].country
			if name, ok := names[code]; ok {
				if c, ok := buildChart(def, name, points[start:end]); ok {
					out[code] = append(out[code], countryChart{section: def.section, chart: c})
				}
			}
			start = end
		}
	}
	return out, nil
}

// profileNames are the names of the countries that get a profile.
func profileNames(ctx context.Context, conn *sql.Conn, only string) (map[string]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT code, name FROM profile_countries WHERE $1 = '' OR code = $1`, only)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		names[code] = name
	}
	return names, rows.Err()
}

// readChartPoints reads a chart's table, by country, notes on the whole
// chart first, then by series and year.
func readChartPoints(ctx context.Context, conn *sql.Conn, id, only string) ([]chartPoint, error) {
	table := vsql.QuoteIdent(profileChartTable(id))
	rows, err := conn.QueryContext(ctx, `SELECT country, series_order, series, year, value, partial, notes FROM `+table+`
		WHERE $1 = '' OR country = $1
		ORDER BY country, year IS NOT NULL, series_order, year`, only)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", id, err)
	}
	defer rows.Close()
	var out []chartPoint
	for rows.Next() {
		var p chartPoint
		var notes any
		if err := rows.Scan(&p.country, &p.order, &p.series, &p.year, &p.value, &p.partial, &notes); err != nil {
			return nil, fmt.Errorf("chart %s: %w", id, err)
		}
		list, _ := notes.([]any)
		for _, n := range list {
			if s, ok := n.(string); ok && s != "" {
				p.notes = append(p.notes, s)
			}
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chart %s: %w", id, err)
	}
	return out, nil
}

// buildChart lays out one country's points of def as a chart: one
// category per year from the first to the last year with a value (a year
// between them without one is a gap), one series per series_order, and
// the notes: def's, the data's notes on the whole chart, then each note
// of the points with the years it applies to. ok is false when the chart
// has values in fewer than two years.
func buildChart(def profileChart, country string, points []chartPoint) (c plot.Chart, ok bool) {
	fill := func(s string) string { return strings.ReplaceAll(s, "{country}", country) }
	type seriesPoints struct {
		name   string
		values map[int]chartPoint
	}
	var chartNotes []string
	var series []*seriesPoints
	byOrder := map[int64]*seriesPoints{}
	valued := map[int]bool{}
	noteYears := map[string][]int{}
	var noteOrder []string
	for _, p := range points {
		if !p.year.Valid {
			chartNotes = append(chartNotes, p.notes...)
			continue
		}
		y := int(p.year.Int64)
		s := byOrder[p.order.Int64]
		if s == nil {
			s = &seriesPoints{name: p.series.String, values: map[int]chartPoint{}}
			byOrder[p.order.Int64] = s
			series = append(series, s)
		}
		s.values[y] = p
		if p.value.Valid {
			valued[y] = true
		}
		for _, n := range p.notes {
			if _, seen := noteYears[n]; !seen {
				noteOrder = append(noteOrder, n)
			}
			if ys := noteYears[n]; len(ys) == 0 || ys[len(ys)-1] != y {
				noteYears[n] = append(ys, y)
			}
		}
	}
	if len(valued) < 2 {
		return plot.Chart{}, false
	}
	years := make([]int, 0, len(valued))
	for y := range valued {
		years = append(years, y)
	}
	sort.Ints(years)
	first, last := years[0], years[len(years)-1]
	c = plot.Chart{ID: def.id, Title: fill(def.title), Subtitle: fill(def.subtitle), Unit: def.unit, Percent: def.percent,
		XTitle: "Year", Kind: def.kind, Source: fill(def.source) + ", " + yearSpans(years)}
	for y := first; y <= last; y++ {
		c.Categories = append(c.Categories, strconv.Itoa(y))
	}
	var left []string
	for _, s := range series {
		if len(c.Series) == plot.MaxSeries {
			left = append(left, s.name)
			continue
		}
		ps := plot.Series{Name: s.name, Values: make([]*float64, len(c.Categories)), Partial: make([]bool, len(c.Categories))}
		for y := first; y <= last; y++ {
			if p, ok := s.values[y]; ok && p.value.Valid {
				v := p.value.Float64
				ps.Values[y-first] = &v
				ps.Partial[y-first] = p.partial
				if p.partial {
					c.PartialNote = "part of the year only"
				}
			}
		}
		c.Series = append(c.Series, ps)
	}
	for _, n := range def.notes {
		c.Notes = append(c.Notes, fill(n))
	}
	c.Notes = append(c.Notes, chartNotes...)
	if len(left) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("Not drawn, a chart showing at most %d series: %s (in the CSV files of the release).", plot.MaxSeries, strings.Join(left, "; ")))
	}
	sort.SliceStable(noteOrder, func(i, j int) bool { return slices.Min(noteYears[noteOrder[i]]) < slices.Min(noteYears[noteOrder[j]]) })
	for _, n := range noteOrder {
		c.Notes = append(c.Notes, yearSpans(noteYears[n])+": "+n)
	}
	return c, true
}

// yearSpans writes years in order as runs: "2009-2010, 2012-2024".
func yearSpans(years []int) string {
	ys := slices.Clone(years)
	sort.Ints(ys)
	ys = slices.Compact(ys)
	var parts []string
	for i := 0; i < len(ys); {
		j := i
		for j+1 < len(ys) && ys[j+1] == ys[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ys[i]))
		} else {
			parts = append(parts, strconv.Itoa(ys[i])+"-"+strconv.Itoa(ys[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// profileCountry is a country that gets a profile, and what the data hold
// for it.
type profileCountry struct {
	code, name              string
	consulates, asylum, own bool
}

// writeProfiles writes the country profiles into the release folder dir
// (release.ProfilesDir: a page per country with its charts as SVG, PNG and
// CSV, the list of countries, the catalogue of charts) and records every
// file in rep. Countries are written in parallel, a worker per core: the
// PNGs are most of the work.
func writeProfiles(ctx context.Context, conn *sql.Conn, dir string, rep *Report, log *slog.Logger) error {
	start := time.Now()
	countries, err := profileCountries(ctx, conn)
	if err != nil {
		return err
	}
	charts, err := profileChartsOf(ctx, conn, "")
	if err != nil {
		return err
	}
	schengen, err := schengenTables(ctx, conn)
	if err != nil {
		return err
	}
	own, err := ownFiguresTables(ctx, conn)
	if err != nil {
		return err
	}
	claims, err := profileClaims(ctx, conn, rep.Claims)
	if err != nil {
		return err
	}
	w, err := profile.NewWriter(dir)
	if err != nil {
		return err
	}
	type result struct {
		rows  []profile.CatalogueRow
		files []string
		err   error
	}
	results := make([]result, len(countries))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				pc := countries[i]
				c := profile.Country{Code: pc.code, Name: pc.name, Release: rep.Release, GeneratedAt: rep.GeneratedAt, Claims: claims[pc.code]}
				for _, cc := range charts[pc.code] {
					s := sectionOf(&c, cc.section)
					s.Charts = append(s.Charts, cc.chart)
				}
				if t, ok := schengen[pc.code]; ok {
					s := sectionOf(&c, sectionSchengen)
					s.Tables = append(s.Tables, t)
				}
				if t, ok := own[pc.code]; ok {
					s := sectionOf(&c, sectionOwn)
					s.Tables = append(s.Tables, t)
				}
				rows, files, err := w.Write(c)
				results[i] = result{rows: rows, files: files, err: err}
			}
		}()
	}
	for i := range countries {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	cat := profile.Catalogue{Release: rep.Release}
	idx := profile.Index{Release: rep.Release, GeneratedAt: rep.GeneratedAt}
	for i, r := range results {
		if r.err != nil {
			return fmt.Errorf("export %s: %w", release.ProfilesDir, r.err)
		}
		pc := countries[i]
		cat.Charts = append(cat.Charts, r.rows...)
		idx.Countries = append(idx.Countries, profile.Entry{Code: pc.code, Name: pc.name,
			Schengen: pc.consulates, Asylum: pc.asylum, Own: pc.own, Charts: len(r.rows)})
		for _, f := range r.files {
			// run.json lists every file with its size and SHA-256; what a
			// chart file is, is said once, in charts.json and
			// datapackage.json, not a thousand times here.
			if err := rep.addFile(dir, f, -1, ""); err != nil {
				return err
			}
		}
	}
	name, err := w.WriteCatalogue(cat)
	if err != nil {
		return err
	}
	if err := rep.addFile(dir, name, -1, "Every chart of the country profiles: its country, title, unit, source and notes, and its SVG, PNG and CSV files"); err != nil {
		return err
	}
	if name, err = w.WriteIndex(idx); err != nil {
		return err
	}
	if err := rep.addFile(dir, name, -1, fmt.Sprintf("Country profiles: a page for each of the %d countries in the data, with its charts as SVG, PNG and the CSV of the numbers drawn", len(countries))); err != nil {
		return err
	}
	rep.stage(log, "export", release.ProfilesDir+"/", int64(len(cat.Charts)), start)
	return nil
}

// sectionOf returns c's section called name, making it.
func sectionOf(c *profile.Country, name string) *profile.Section {
	var s **profile.Section
	switch name {
	case sectionSchengen:
		s = &c.Schengen
	case sectionAsylum:
		s = &c.Asylum
	default:
		s = &c.Own
	}
	if *s == nil {
		*s = &profile.Section{}
	}
	return *s
}

// profileCountries lists the countries that get a profile, by code.
func profileCountries(ctx context.Context, conn *sql.Conn) ([]profileCountry, error) {
	rows, err := conn.QueryContext(ctx, `SELECT code, name, consulates, asylum, issuer FROM profile_countries ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer rows.Close()
	var out []profileCountry
	for rows.Next() {
		var c profileCountry
		if err := rows.Scan(&c.code, &c.name, &c.consulates, &c.asylum, &c.own); err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		if !release.ValidCountryCode(c.code) {
			return nil, fmt.Errorf("profiles: country code %q cannot name a profile", c.code)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// schengenTables is, per host country, its row of
// schengen_host_country_year for every EC year loaded: what the profile's
// Schengen charts do not draw (applications with airport transit visas,
// every visa issued and refused, the change), with each year's
// comparability note.
func schengenTables(ctx context.Context, conn *sql.Conn) (map[string]profile.Table, error) {
	rows, err := conn.QueryContext(ctx, `SELECT host_country, year, applications, uniform_applied, issued, not_issued,
			not_issued_rate, applications_yoy_change, comparability_note
		FROM schengen_host_country_year ORDER BY host_country, year`)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer rows.Close()
	out := map[string]profile.Table{}
	for rows.Next() {
		var code string
		var year int
		var apps, uniform, issued, notIssued sql.NullInt64
		var rate, change sql.NullFloat64
		var note sql.NullString
		if err := rows.Scan(&code, &year, &apps, &uniform, &issued, &notIssued, &rate, &change, &note); err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		t, ok := out[code]
		if !ok {
			t = profile.Table{ID: "schengen-figures",
				Caption: "Schengen visas at consulates located here, by year (schengen_host_country_year)",
				Head: []string{"Year", "Applications, ATV and uniform (D + I)", "Uniform visa applications (I)",
					"Visas issued, all (E + J + M)", "Not issued (G + N)", "Refusal rate", "Change in applications"}}
		}
		t.Rows = append(t.Rows, []profile.Cell{profile.Text(strconv.Itoa(year), ""), profile.Count(nullInt(apps)),
			profile.Count(nullInt(uniform)), profile.Count(nullInt(issued)), profile.Count(nullInt(notIssued)),
			profile.Rate(nullFloat(rate)), profile.Change(nullFloat(change))})
		if note.Valid && note.String != "" {
			t.Notes = append(t.Notes, strconv.Itoa(year)+": "+note.String+".")
		}
		out[code] = t
	}
	return out, rows.Err()
}

// ownFiguresTables is, per issuing country, the visa figures its Foreign
// Ministry published, each with how it was rounded and who reported it.
func ownFiguresTables(ctx context.Context, conn *sql.Conn) (map[string]profile.Table, error) {
	rows, err := conn.QueryContext(ctx, `SELECT issuer, year, indicator, coalesce(recipient_name, recipient), value, precision,
			source_publisher, coalesce(source_url, ''), coalesce(note, '')
		FROM ru_mfa_visas_published ORDER BY issuer, indicator DESC, recipient DESC, year, source_publisher`)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer rows.Close()
	out := map[string]profile.Table{}
	for rows.Next() {
		var code, indicator, recipient, precision, publisher, url, note string
		var year int
		var value sql.NullInt64
		if err := rows.Scan(&code, &year, &indicator, &recipient, &value, &precision, &publisher, &url, &note); err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		t, ok := out[code]
		if !ok {
			t = profile.Table{ID: "own-figures", Caption: "Visas issued, as published (ru_mfa_visas_published)",
				Head: []string{"Year", "What", "To", "Visas", "Rounding", "Published by", "Note"}}
		}
		what := map[string]string{"visas_issued": "visas issued", "e_visas_issued": "e-visas issued"}[indicator]
		if what == "" {
			what = indicator
		}
		t.Rows = append(t.Rows, []profile.Cell{profile.Text(strconv.Itoa(year), ""), profile.Text(what, ""), profile.Text(recipient, ""),
			profile.Count(nullInt(value)), profile.Text(precision, ""), profile.Text(publisher, url), profile.Text(note, "")})
		out[code] = t
	}
	return out, rows.Err()
}

// profileClaims is, per country, the checked claims its profile shows
// (profile_claims), as evaluated in this run.
func profileClaims(ctx context.Context, conn *sql.Conn, evaluated []release.Claim) (map[string][]page.ClaimRow, error) {
	rows, err := conn.QueryContext(ctx, `SELECT country, claim_id FROM profile_claims ORDER BY country, claim_id`)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer rows.Close()
	out := map[string][]page.ClaimRow{}
	for rows.Next() {
		var code, id string
		if err := rows.Scan(&code, &id); err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		if i := slices.IndexFunc(evaluated, func(c release.Claim) bool { return c.ID == id }); i >= 0 {
			out[code] = append(out[code], page.ClaimRowOf(evaluated[i]))
		}
	}
	return out, rows.Err()
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}
