package pipeline

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/output/browsertest"
	"github.com/visastats/visastats/output/profile"
	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/output/serve"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// TestCountryProfiles reads the country profiles of the shared full build
// (every shipped input) as their readers would: a page for every country
// in the data, each chart as SVG, PNG and CSV, every file listed and
// described; each chart's CSV holds the figures of the published tables
// (recomputed here from the Parquet files, not from the chart tables);
// the pages render in Chromium at a phone's and a desktop's width; and the
// topic workbooks draw the same charts natively, for any country.
func TestCountryProfiles(t *testing.T) {
	t.Parallel()
	b := fullBuild(t)
	latest := b.Latest
	cat, err := profile.ReadCatalogue(latest)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]release.File{}
	for _, f := range b.Report.Files {
		listed[f.Name] = f
	}

	t.Run("listed", func(t *testing.T) { checkProfilesListed(t, latest, cat, listed) })
	t.Run("csv equals the published tables", func(t *testing.T) { checkChartFigures(t, latest, cat) })
	t.Run("images", func(t *testing.T) { checkChartImages(t, latest, cat) })
	t.Run("russia", func(t *testing.T) { checkRussiaProfile(t, latest, cat) })
	t.Run("links", func(t *testing.T) { checkProfileLinks(t, latest, listed) })
	t.Run("browser", func(t *testing.T) { checkProfilesInBrowser(t, latest, listed) })
	t.Run("topic workbooks", func(t *testing.T) { checkTopicCharts(t, b, cat) })
}

// checkProfilesListed: a profile for every country of profile_countries
// (more than 150), every file under countries/ listed in run.json with its
// size and SHA-256, each chart's three files in the catalogue, and every
// chart's CSV a tabular resource of datapackage.json with its title, unit,
// source and notes.
func checkProfilesListed(t *testing.T, latest string, cat profile.Catalogue, listed map[string]release.File) {
	pages := 0
	for name := range listed {
		if strings.HasSuffix(name, ".html") && release.IsProfileFile(name) && name != release.ProfilesIndex {
			pages++
		}
	}
	if pages <= 150 {
		t.Errorf("%d profiles, want more than 150", pages)
	}
	err := filepath.WalkDir(filepath.Join(latest, release.ProfilesDir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(latest, p)
		name := filepath.ToSlash(rel)
		f, ok := listed[name]
		if !ok {
			t.Errorf("%s is in the release but not in run.json", name)
			return nil
		}
		size, sum, err := sources.FileDigest(p)
		if err != nil {
			return err
		}
		if size != f.Size || sum != f.SHA256 {
			t.Errorf("%s: %d bytes sha256 %s, run.json says %d, %s", name, size, sum, f.Size, f.SHA256)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cat.Charts {
		for _, f := range []string{c.SVG, c.PNG, c.CSV, c.Page} {
			if _, ok := listed[f]; !ok {
				t.Errorf("chart %s of %s: %s not in run.json", c.Chart, c.Country, f)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(latest, DataPackageName))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Resources []struct {
			Name, Title, Description, Profile string
			Path                              any
			Sources                           []struct{ Title string }
			Schema                            struct {
				Fields []struct{ Name, Type, Unit string }
			}
		}
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	byPath := map[string]int{}
	covered := map[string]bool{}
	for i, r := range pkg.Resources {
		switch p := r.Path.(type) {
		case string:
			byPath[p] = i
			covered[p] = true
		case []any:
			for _, x := range p {
				covered[x.(string)] = true
			}
		}
	}
	for name := range listed {
		if release.IsProfileFile(name) && !covered[name] {
			t.Errorf("datapackage.json does not cover %s", name)
		}
	}
	for _, c := range cat.Charts {
		i, ok := byPath[c.CSV]
		if !ok {
			t.Errorf("datapackage.json has no resource for %s", c.CSV)
			continue
		}
		r := pkg.Resources[i]
		if r.Profile != "tabular-data-resource" || r.Title != c.Title || !strings.Contains(r.Description, "Unit: "+c.Unit) ||
			!strings.Contains(r.Description, "Source: "+c.Source) || len(r.Sources) != 1 || r.Sources[0].Title != c.Source ||
			(len(c.Notes) > 0 && !strings.Contains(r.Description, c.Notes[len(c.Notes)-1])) ||
			len(r.Schema.Fields) < 2 || r.Schema.Fields[1].Unit != c.Unit {
			t.Errorf("datapackage.json resource %s does not say what chart %s of %s is: %+v", r.Name, c.Chart, c.Country, r)
		}
	}
	page, err := os.ReadFile(filepath.Join(latest, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`<a href="countries/index.html">Country profiles</a> (%d countries)`, pages); !strings.Contains(string(page), want) {
		t.Errorf("the release page does not link the profiles: want %s", want)
	}
}

// chartKey is one value of one chart: country, chart, series, year.
type chartKey struct {
	country, chart, series string
	year                   int
}

// checkChartFigures compares every value of every chart's CSV with the
// figure of the published tables it draws, recomputed here with DuckDB
// from the Parquet files: counts exactly, rates as the percentage rounded
// to one decimal (and only on a base of 30), and a value present in the
// tables for a series and a year a chart draws is never missing from it.
// The Schengen States a chart draws are the five that received the most
// applications in the country's latest year.
func checkChartFigures(t *testing.T, latest string, cat profile.Catalogue) {
	db := openDuck(t)
	pq := func(table string) string { return "read_parquet('" + filepath.Join(latest, table+".parquet") + "')" }
	// What each chart draws, from the published tables.
	query := `
	SELECT 'schengen_visas', host_country, 'Uniform visa applications', year, uniform_applied FROM ` + pq("schengen_host_country_year") + `
	UNION ALL SELECT 'schengen_visas', host_country, 'Uniform visas issued', year, uniform_issued FROM ` + pq("schengen_host_country_year") + `
	UNION ALL SELECT 'schengen_refusal_rate', host_country, 'Refusal rate', year,
		CASE WHEN uniform_issued + ltv_issued + uniform_not_issued >= 30 THEN 100 * not_issued_rate END FROM ` + pq("schengen_host_country_year") + `
	UNION ALL SELECT 'schengen_states', o.partner, s.state_name, o.year, sum(o.value)
		FROM ` + pq("observations") + ` o JOIN (SELECT DISTINCT state, state_name FROM ` + pq("schengen_state_year") + `) s ON s.state = o.reporter
		WHERE o.dataset = 'ec_schengen_consulates' AND o.indicator = 'uniform_applied' GROUP BY ALL
	UNION ALL SELECT 'asylum_applications', origin, place || ', UNHCR', year, unhcr_applications FROM a
	UNION ALL SELECT 'asylum_applications', citizenship, reporter || ', Eurostat first-time applicants', year, first_time_applicants
		FROM ` + pq("asylum_citizenship_year") + ` WHERE reporter = 'EU28'
	UNION ALL SELECT 'asylum_applications', citizenship, 'EU, Eurostat first-time applicants', year, first_time_applicants
		FROM ` + pq("asylum_citizenship_year") + ` WHERE reporter = 'EU27_2020'
	UNION ALL SELECT 'asylum_decisions', origin, place || ', UNHCR all stages', year, unhcr_decisions_total FROM a
	UNION ALL SELECT 'asylum_decisions', origin, place || ', Eurostat first instance', year, eurostat_decisions_total FROM a
	UNION ALL SELECT 'asylum_recognition', origin, place || ', UNHCR all stages', year,
		CASE WHEN unhcr_recognized + unhcr_complementary + unhcr_rejected >= 30 THEN 100 * unhcr_total_protection_rate END FROM a
	UNION ALL SELECT 'asylum_recognition', origin, place || ', Eurostat first instance', year,
		CASE WHEN eurostat_decisions_positive + eurostat_decisions_rejected >= 30 THEN 100 * eurostat_recognition_rate END FROM a
	UNION ALL SELECT 'visas_issued_by_country', issuer,
		CASE indicator WHEN 'visas_issued' THEN 'Visas' ELSE 'E-visas' END || ' issued to ' || CASE recipient WHEN 'WORLD' THEN 'all foreigners' ELSE 'European nationals' END,
		year, value FROM ` + pq("ru_mfa_visas_published")
	rows, err := db.Query(`WITH a AS (SELECT *, CASE asylum_country WHEN 'EU27_2020' THEN 'EU' ELSE asylum_country_name END AS place FROM ` +
		pq("asylum_decisions_compared") + `) ` + query)
	if err != nil {
		t.Fatal(err)
	}
	want := map[chartKey]float64{}
	for rows.Next() {
		var k chartKey
		var v sql.NullFloat64
		if err := rows.Scan(&k.chart, &k.country, &k.series, &k.year, &v); err != nil {
			t.Fatal(err)
		}
		if v.Valid {
			want[k] = v.Float64
		}
	}
	rows.Close()

	checked := 0
	charts := map[string]int{}
	for _, c := range cat.Charts {
		charts[c.Chart]++
		recs := readChartCSV(t, filepath.Join(latest, filepath.FromSlash(c.CSV)))
		if !slices.Equal(recs[0], c.Columns) || len(recs)-1 != c.Rows {
			t.Errorf("%s: header %q and %d rows, the catalogue says %q and %d", c.CSV, recs[0], len(recs)-1, c.Columns, c.Rows)
		}
		for _, rec := range recs[1:] {
			year, err := strconv.Atoi(rec[0])
			if err != nil {
				t.Fatalf("%s: category %q is not a year", c.CSV, rec[0])
			}
			for i, series := range c.Series {
				k := chartKey{c.Country, c.Chart, series, year}
				w, ok := want[k]
				cell := rec[i+1]
				switch {
				case cell == "" && ok:
					t.Errorf("%s: %s %d is empty, the published tables have %v", c.CSV, series, year, w)
				case cell == "":
				case !ok:
					t.Errorf("%s: %s %d is %s, the published tables have nothing", c.CSV, series, year, cell)
				default:
					got, err := strconv.ParseFloat(cell, 64)
					tolerance := 0.0
					if c.Percent {
						tolerance = 0.05 + 1e-9 // a percentage to one decimal
					}
					if err != nil || math.Abs(got-w) > tolerance {
						t.Errorf("%s: %s %d is %s, the published tables have %v", c.CSV, series, year, cell, w)
					}
					checked++
				}
			}
		}
	}
	if checked < 10000 {
		t.Errorf("only %d values compared", checked)
	}
	for _, id := range []string{"schengen_visas", "schengen_refusal_rate", "schengen_states", "asylum_applications", "asylum_decisions", "asylum_recognition"} {
		if charts[id] < 100 {
			t.Errorf("%d charts %s, want one for most countries", charts[id], id)
		}
	}
	// The States drawn are the (at most) five with the most applications
	// in the latest year of the country, ties broken by the State's code.
	top := map[string][]string{}
	rows, err = db.Query(`WITH p AS (
			SELECT o.partner, o.reporter, s.state_name, o.year, sum(o.value) AS v FROM ` + pq("observations") + ` o
			JOIN (SELECT DISTINCT state, state_name FROM ` + pq("schengen_state_year") + `) s ON s.state = o.reporter
			WHERE o.dataset = 'ec_schengen_consulates' AND o.indicator = 'uniform_applied' GROUP BY ALL HAVING sum(o.value) > 0)
		SELECT partner, state_name FROM p QUALIFY year = max(year) OVER (PARTITION BY partner)
		ORDER BY partner, v DESC, reporter`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var host, state string
		if err := rows.Scan(&host, &state); err != nil {
			t.Fatal(err)
		}
		top[host] = append(top[host], state)
	}
	rows.Close()
	for _, c := range cat.Charts {
		if c.Chart == "schengen_states" {
			if want := top[c.Country][:min(5, len(top[c.Country]))]; !slices.Equal(c.Series, want) {
				t.Errorf("%s: States %q, want the five with most applications %q", c.CSV, c.Series, want)
			}
		}
	}
}

func readChartCSV(t *testing.T, p string) [][]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("%s: %d records, %v", p, len(recs), err)
	}
	return recs
}

// checkChartImages decodes the PNG of every RU chart and of a spread of
// the others (every 25th): a real PNG, as wide as a column at least, not
// blank (several colours, a fair share of pixels drawn); and parses their
// SVG files as XML with a title.
func checkChartImages(t *testing.T, latest string, cat profile.Catalogue) {
	for i, c := range cat.Charts {
		if c.Country != "RU" && i%25 != 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(latest, filepath.FromSlash(c.PNG)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %v", c.PNG, err)
			continue
		}
		if r := img.Bounds(); r.Dx() < 640 || r.Dy() < 300 {
			t.Errorf("%s is %v", c.PNG, r)
		}
		if colours, drawn := inked(img); colours < 4 || drawn < 0.02 {
			t.Errorf("%s looks blank: %d colours, %.1f%% of pixels not white", c.PNG, colours, 100*drawn)
		}
		svg, err := os.ReadFile(filepath.Join(latest, filepath.FromSlash(c.SVG)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(svg, []byte("<title id=\""+c.Chart+"-title\">")) {
			t.Errorf("%s has no title", c.SVG)
		}
		if err := wellFormed(svg); err != nil {
			t.Errorf("%s: %v", c.SVG, err)
		}
	}
}

// inked counts an image's colours (up to 64) and the share of its pixels
// that are not white.
func inked(img image.Image) (colours int, drawn float64) {
	seen := map[color.RGBA]bool{}
	r := img.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if len(seen) < 64 {
				seen[c] = true
			}
			if c.R < 250 || c.G < 250 || c.B < 250 {
				n++
			}
		}
	}
	return len(seen), float64(n) / float64((r.Dx()/2)*(r.Dy()/2))
}

// checkRussiaProfile reads the profile of Russia: consulate applications
// for every EC year loaded, Russians' asylum decisions and recognition
// rates in France and the EU from UNHCR beside Eurostat's, partial years
// marked, the MFA figures and the checked claims, with the words that say
// what is counted.
func checkRussiaProfile(t *testing.T, latest string, cat profile.Catalogue) {
	html := readFile(t, filepath.Join(latest, "countries", "RU.html"))
	var ids []string
	for _, c := range cat.Charts {
		if c.Country == "RU" {
			ids = append(ids, c.Chart)
		}
	}
	if want := []string{"schengen_visas", "schengen_refusal_rate", "schengen_states", "asylum_applications", "asylum_decisions",
		"asylum_recognition", "visas_issued_by_country"}; !slices.Equal(ids, want) {
		t.Errorf("RU charts %v, want %v", ids, want)
	}
	visas := readChartCSV(t, filepath.Join(latest, "countries", "RU", "schengen_visas.csv"))
	var years []string
	for _, r := range visas[1:] {
		if r[1] != "" {
			years = append(years, r[0])
		}
	}
	if want := []string{"2009", "2010", "2012", "2013", "2014", "2015", "2016", "2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024"}; !slices.Equal(years, want) {
		t.Errorf("RU uniform visa applications in %v, want every EC year loaded %v", years, want)
	}
	decisions := readChartCSV(t, filepath.Join(latest, "countries", "RU", "asylum_decisions.csv"))
	if want := []string{"year", "EU, UNHCR all stages", "United States, UNHCR all stages", "Germany, UNHCR all stages", "France, UNHCR all stages"}; !slices.Equal(decisions[0], want) {
		t.Errorf("RU decisions drawn %q, want %q", decisions[0], want)
	}
	for _, s := range []string{
		// Words that say what is counted.
		"Schengen visas at consulates located in Russian Federation", "whatever the applicant&#39;s nationality",
		"UNHCR counts decisions at all procedure stages", "Eurostat counts first-instance decisions",
		"2011: no EC workbook is loaded for this year",
		"2009-2010: refusals of uniform visas alone are reported from 2011",
		"No Eurostat first-instance decisions on these citizens are loaded",
		// Consulate applications, with and without ATVs (2023: 520,402 and 520,387).
		"520,402", "520,387", "3,241,940",
		// UNHCR decisions on Russians in France (2022-2024) and the EU (2023), and the protection rate in France 2022.
		"<td class=\"num\">2,846</td>", "<td class=\"num\">4,647</td>", "<td class=\"num\">4,650</td>", "<td class=\"num\">22,977</td>", "34.3%",
		// The MFA figures and the claims.
		"846,000", "158,972", "rounded to thousands", "Published claims, checked", "Reproduced, with a caveat",
	} {
		if !strings.Contains(html, s) {
			t.Errorf("RU.html lacks %s", s)
		}
	}
}

// checkProfileLinks follows every relative link and resource of every
// profile page and of the index: each names a file of the release that
// run.json lists (or the release's own page, run.json and
// datapackage.json).
func checkProfileLinks(t *testing.T, latest string, listed map[string]release.File) {
	link := regexp.MustCompile(`(?:href|src)="([^"#]*)`)
	for name := range listed {
		if !strings.HasSuffix(name, ".html") || !release.IsProfileFile(name) {
			continue
		}
		html := readFile(t, filepath.Join(latest, filepath.FromSlash(name)))
		for _, m := range link.FindAllStringSubmatch(html, -1) {
			target := m[1]
			if target == "" || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "data:") {
				continue // in-page, a publication's address, the empty icon
			}
			if strings.HasPrefix(target, "/") {
				t.Errorf("%s links %s: not relative", name, target)
				continue
			}
			p := path.Join(path.Dir(name), target)
			if _, ok := listed[p]; !ok && p != "run.json" && p != DataPackageName {
				t.Errorf("%s links %s (%s), which the release does not list", name, target, p)
			}
		}
	}
}

// checkProfilesInBrowser lays out every profile and the index in headless
// Chromium at a phone's width (390 px) and a desktop's (1280 px), in one
// browser: a harness page, served with the release folder as a bucket
// would serve it, holds each page's body in a template and puts it, in
// turn, in a frame of each width that holds a profile, so that the style
// sheet in the head (the same in every page, which is checked here) is
// read once. Loading 215 pages in frames of their own took 25 s at one
// width on a 2-core machine; laying out their bodies takes a few. The
// inline charts are laid out as the empty boxes of their viewBox (an SVG
// is sized by the page's style, width 100%, from its viewBox, which every
// inline chart is checked to have, and draws nothing outside its box), so
// that Chromium lays out the pages, not 1,000 drawings; Russia's whole
// page is drawn below, served by visastats serve. Every page must fit its
// width (the document no wider than its frame: wide tables scroll inside
// their own box), and nothing may print to the console.
func checkProfilesInBrowser(t *testing.T, latest string, listed map[string]release.File) {
	browsertest.Require(t)
	var pages []string
	for name := range listed {
		if strings.HasSuffix(name, ".html") && release.IsProfileFile(name) {
			pages = append(pages, name)
		}
	}
	slices.Sort(pages)
	head := regexp.MustCompile(`(?s)<head>.*</head>`)
	title := regexp.MustCompile(`<title>.*</title>`)
	body := regexp.MustCompile(`(?s)<body>(.*)</body>`)
	svg := regexp.MustCompile(`(?s)<svg ([^>]*)>.*?</svg>`)
	var harness strings.Builder
	harness.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>profiles</title></head><body>
<pre id="result">not run</pre>
<iframe id="w390" src="/` + release.ProfilePage("RU") + `" style="width:390px;height:300px"></iframe>
<iframe id="w1280" src="/` + release.ProfilePage("RU") + `" style="width:1280px;height:300px"></iframe>
`)
	var style string
	for _, p := range pages {
		html := readFile(t, filepath.Join(latest, filepath.FromSlash(p)))
		h := title.ReplaceAllString(head.FindString(html), "")
		if style == "" {
			style = h
		} else if h != style {
			t.Errorf("%s: its head differs from the other pages' (its style sheet is not checked)", p)
		}
		for _, m := range svg.FindAllStringSubmatch(html, -1) {
			if !strings.Contains(m[1], `viewBox="0 0 `) || strings.Contains(m[1], "width=") || strings.Contains(m[1], "height=") {
				t.Errorf("%s: an inline chart is not sized by the page: <svg %s>", p, m[1])
			}
		}
		b := body.FindStringSubmatch(html)
		if b == nil {
			t.Fatalf("%s has no body", p)
		}
		fmt.Fprintf(&harness, "<template data-page=\"%s\">%s</template>\n", p, svg.ReplaceAllString(b[1], "<svg $1></svg>"))
	}
	harness.WriteString(`<script>
window.addEventListener("load", function () {
  var out = [];
  [390, 1280].forEach(function (w) {
    var d = document.getElementById("w" + w).contentDocument;
    document.querySelectorAll("template").forEach(function (tpl) {
      d.body.replaceChildren(d.importNode(tpl.content, true));
      var over = d.documentElement.scrollWidth - d.documentElement.clientWidth;
      out.push((over > 0 ? "WIDE " : "OK ") + tpl.dataset.page + " " + w + " " + over);
    });
  });
  document.getElementById("result").textContent = out.join("\n");
});
</script>
</body></html>`)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(latest)))
	mux.HandleFunc("/harness.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(harness.String()))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	dom, log := browsertest.RunLog(ctx, t, "--enable-logging=stderr", "--v=0", "--window-size=1400,900",
		"--dump-dom", ts.URL+"/harness.html")
	t.Logf("%d pages at 2 widths in %v", len(pages), time.Since(start).Round(time.Millisecond))
	result := regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`).FindSubmatch(dom)
	if result == nil {
		t.Fatalf("the harness did not run:\n%s", dom[:min(len(dom), 2000)])
	}
	lines := strings.Split(strings.TrimSpace(string(result[1])), "\n")
	if len(lines) != 2*len(pages) {
		t.Fatalf("%d layouts checked, want %d: %s", len(lines), 2*len(pages), result[1])
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "OK ") {
			t.Errorf("%s", l)
		}
	}
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "CONSOLE") {
			t.Errorf("console: %s", l)
		}
	}
	// visastats serve shows the profile at /countries/RU, under its
	// content security policy, with nothing refused.
	srv, err := serve.New(serve.Options{Dir: filepath.Dir(latest)})
	if err != nil {
		t.Fatal(err)
	}
	ss := httptest.NewServer(srv.Handler())
	defer ss.Close()
	dom, log = browsertest.RunLog(ctx, t, "--enable-logging=stderr", "--v=0", "--window-size=390,900", "--dump-dom", ss.URL+"/countries/RU")
	if !bytes.Contains(dom, []byte("<h1>Russian Federation")) || !bytes.Contains(dom, []byte("<svg")) {
		t.Errorf("/countries/RU does not show Russia's profile:\n%s", dom[:min(len(dom), 1000)])
	}
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "CONSOLE") {
			t.Errorf("console, served: %s", l)
		}
	}
}

// checkTopicCharts: russia.xlsx carries its country's profile charts as
// native Excel charts, and a topic workbook for any other country (Turkey,
// China) gets its own, drawn from the build's database.
func checkTopicCharts(t *testing.T, b *builtRelease, cat profile.Catalogue) {
	count := func(country string) int {
		n := 0
		for _, c := range cat.Charts {
			if c.Country == country {
				n++
			}
		}
		return n
	}
	checkCharts := func(path, country string) {
		t.Helper()
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if !slices.Contains(f.GetSheetList(), "Charts") {
			t.Fatalf("%s has no Charts sheet: %v", filepath.Base(path), f.GetSheetList())
		}
		charts := 0
		f.Pkg.Range(func(name, _ any) bool {
			if n, _ := name.(string); strings.HasPrefix(n, "xl/charts/chart") {
				charts++
			}
			return true
		})
		if want := count(country); charts != want || want < 3 {
			t.Errorf("%s: %d native charts, want %d (the profile of %s)", filepath.Base(path), charts, want, country)
		}
		rows, _ := f.GetRows("Charts")
		if len(rows) == 0 || !strings.HasPrefix(rows[0][0], "Schengen visas at consulates located in") {
			t.Errorf("%s: Charts sheet starts %q", filepath.Base(path), rows[:min(1, len(rows))])
		}
	}
	checkCharts(filepath.Join(b.Latest, "russia.xlsx"), "RU")

	db, err := sql.Open("duckdb", b.Config.Database+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cols, err := vsql.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tp := range []TopicConfig{{File: "turkey.xlsx", Title: "visastats: Türkiye", Country: "TR"}, {File: "china.xlsx", Title: "visastats: China", Country: "CN"}} {
		cfg := b.Config
		cfg.Output.Topics = []TopicConfig{tp}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("a topic for %s: %v", tp.Country, err)
		}
		rep := &Report{Report: b.Report.Report}
		if _, err := writeWorkbook(ctx, conn, dir, cols, workbookSpec{file: tp.File, title: tp.Title, country: tp.Country}, rep); err != nil {
			t.Fatalf("topic workbook %s: %v", tp.File, err)
		}
		checkCharts(filepath.Join(dir, tp.File), tp.Country)
	}
}

// wellFormed says whether b parses as XML to its end.
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProfileChartsHaveTables: every chart of the profiles has the SQL
// transform that builds its table, and every chart_* transform a chart,
// so that neither list can grow alone.
func TestProfileChartsHaveTables(t *testing.T) {
	ts, err := vsql.Transforms()
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, tr := range ts {
		if strings.HasPrefix(tr.Name, "chart_") {
			tables = append(tables, tr.Name)
		}
	}
	var want []string
	for _, c := range profileCharts {
		want = append(want, profileChartTable(c.id))
		if !release.ValidChartID(c.id) || c.title == "" || c.unit == "" || c.source == "" {
			t.Errorf("chart %q: an id, a title, a unit and a source are needed", c.id)
		}
	}
	if !slices.Equal(tables, want) {
		t.Errorf("chart transforms %v, charts %v: one transform per chart, in the order shown", tables, want)
	}
}

// TestBuildChart lays out points of a chart table as the profiles draw
// them: a category per year from the first to the last with a value (the
// years around trimmed, a year between without one a gap), the series in
// order, the notes of the points grouped by text with the years they
// apply to, and no chart on fewer than two years.
func TestBuildChart(t *testing.T) {
	def := profileChart{id: "schengen_refusal_rate", kind: "line", percent: true, title: "Refusal rate at consulates located in {country}",
		unit: "% of decisions", source: "European Commission, Visa statistics for consulates", notes: []string{"Drawn on at least 30 decisions in {country}."}}
	pt := func(year int, value float64, valid bool, notes ...string) chartPoint {
		return chartPoint{country: "RU", order: sql.NullInt64{Int64: 1, Valid: true}, series: sql.NullString{String: "Refusal rate", Valid: true},
			year: sql.NullInt64{Int64: int64(year), Valid: true}, value: sql.NullFloat64{Float64: value, Valid: valid}, notes: notes}
	}
	abc := "refusals of uniform visas alone are reported from 2011"
	points := []chartPoint{
		{country: "RU", notes: []string{"A note on the whole chart"}},
		pt(2009, 0, false, abc), pt(2010, 0, false, abc), pt(2011, 0, false, "no EC workbook is loaded for this year"),
		pt(2012, 0.009138348364300608, true, "before 2013 LTVs were counted inconsistently"), pt(2013, 0.010102802306654725, true), pt(2014, 0, false), pt(2015, 0.013103124393467471, true),
	}
	c, ok := buildChart(def, "Russian Federation", points)
	if !ok {
		t.Fatal("no chart")
	}
	if want := []string{"2012", "2013", "2014", "2015"}; !slices.Equal(c.Categories, want) {
		t.Errorf("categories %v, want %v", c.Categories, want)
	}
	if v := c.Series[0].Values; v[2] != nil || *v[0] != 0.009138348364300608 || *v[3] != 0.013103124393467471 {
		t.Errorf("values %v", v)
	}
	if c.Title != "Refusal rate at consulates located in Russian Federation" || c.Source != "European Commission, Visa statistics for consulates, 2012-2013, 2015" || !c.Percent {
		t.Errorf("title %q, source %q", c.Title, c.Source)
	}
	want := []string{"Drawn on at least 30 decisions in Russian Federation.", "A note on the whole chart", "2009-2010: " + abc,
		"2011: no EC workbook is loaded for this year", "2012: before 2013 LTVs were counted inconsistently"}
	if !slices.Equal(c.Notes, want) {
		t.Errorf("notes\n%q\nwant\n%q", c.Notes, want)
	}
	if _, ok := buildChart(def, "Russian Federation", points[:5]); ok {
		t.Error("a chart of one year was drawn")
	}
	var many []chartPoint
	for i := range 9 {
		for _, y := range []int{2022, 2023} {
			many = append(many, chartPoint{country: "RU", order: sql.NullInt64{Int64: int64(i), Valid: true}, series: sql.NullString{String: "S" + strconv.Itoa(i), Valid: true},
				year: sql.NullInt64{Int64: int64(y), Valid: true}, value: sql.NullFloat64{Float64: float64(i), Valid: true}})
		}
	}
	c, _ = buildChart(def, "Russian Federation", many)
	if len(c.Series) != 7 || !strings.Contains(c.Notes[len(c.Notes)-1], "S7; S8") {
		t.Errorf("%d series, notes %q: want 7 and the two left out named", len(c.Series), c.Notes)
	}
}
