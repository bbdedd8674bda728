package pipeline

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// The shipped Eurostat files are all of the older coding (asyl_app
// NASY_APP, decisions TOTAL_POS/REJECTED, flags before 2025). The fixtures
// below turn them, at test time, into files of the current coding, so that
// both codings load side by side from real figures.
const (
	esShippedSDMX   = "../data/eurostat/migr_asydcfsta_sdmx-csv_FR_2015-2019.csv"
	esShippedAppsso = "../data/eurostat/migr_asyappctza_legacy-appsso-csv_labels_2012-2016.csv"
)

// round5 rounds to the nearest multiple of 5, as Eurostat does.
func round5(v float64) float64 { return math.Round(v/5) * 5 }

// esSDMXKey is a series of the decisions file: citizen, sex, age, decision.
type esSDMXKey struct{ citizen, sex, age, decision string }

// writeCurrentCodingSDMX writes the shipped France decisions SDMX-CSV in the
// current coding: years shifted by five (2015-2019 become 2020-2024, so the
// file continues the shipped one instead of repeating it), TOTAL_POS as
// POS and REJECTED as NEG, a CONF_STATUS column, 2024 provisional (p), one
// value imputed (i, the letter that replaced s), one confidential cell
// (": " with CONF_STATUS C), and for all citizens and for Afghans the parts
// POS_RFG, POS_HUM, POS_SPROT and the TOTAL, made from POS and NEG. Two of
// those sums are put beyond the rounding tolerance on purpose (all citizens
// 2022: TOTAL 15 over POS + NEG; Afghans 2023: the POS_* sum 10 over POS),
// one within it (Afghans 2021: TOTAL 5 over POS + NEG). It returns the
// shipped values by key and year.
func writeCurrentCodingSDMX(t *testing.T, dir string) (string, map[esSDMXKey]map[int]float64) {
	t.Helper()
	f, err := os.Open(esShippedSDMX)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	shipped := map[esSDMXKey]map[int]float64{}
	out := [][]string{append(append([]string(nil), head...), "CONF_STATUS")}
	rename := map[string]string{"TOTAL_POS": "POS", "REJECTED": "NEG"}
	for _, r := range recs[1:] {
		year, _ := strconv.Atoi(r[col["TIME_PERIOD"]])
		v, err := strconv.ParseFloat(r[col["OBS_VALUE"]], 64)
		if err != nil {
			t.Fatalf("shipped value %q: %v", r[col["OBS_VALUE"]], err)
		}
		k := esSDMXKey{r[col["citizen"]], r[col["sex"]], r[col["age"]], r[col["decision"]]}
		if shipped[k] == nil {
			shipped[k] = map[int]float64{}
		}
		shipped[k][year] = v
		n := append(append([]string(nil), r...), "")
		n[col["decision"]] = rename[k.decision]
		n[col["TIME_PERIOD"]] = strconv.Itoa(year + 5)
		if year+5 == 2024 {
			n[col["OBS_FLAG"]] = "p"
		}
		switch {
		case k == esSDMXKey{"AF", "T", "TOTAL", "TOTAL_POS"} && year == 2015:
			n[col["OBS_FLAG"]] = "i"
		case k == esSDMXKey{"KP", "T", "TOTAL", "REJECTED"} && year == 2019:
			n[col["OBS_VALUE"]] = ":"
			n[len(n)-1] = "C"
		}
		out = append(out, n)
	}
	proto := recs[1]
	add := func(citizen, decision string, year int, v float64, flag string) {
		n := append(append([]string(nil), proto...), "")
		n[col["citizen"]], n[col["sex"]], n[col["age"]], n[col["decision"]] = citizen, "T", "TOTAL", decision
		n[col["TIME_PERIOD"]] = strconv.Itoa(year)
		n[col["OBS_VALUE"]] = strconv.FormatFloat(v, 'f', -1, 64)
		n[col["OBS_FLAG"]] = flag
		out = append(out, n)
	}
	for _, citizen := range []string{"TOTAL", "AF"} {
		for year := 2015; year <= 2019; year++ {
			pos := shipped[esSDMXKey{citizen, "T", "TOTAL", "TOTAL_POS"}][year]
			neg := shipped[esSDMXKey{citizen, "T", "TOTAL", "REJECTED"}][year]
			rfg, sprot := round5(pos*0.6), round5(pos*0.3)
			hum := pos - rfg - sprot
			total := pos + neg
			switch {
			case citizen == "TOTAL" && year+5 == 2022:
				total += 15
			case citizen == "AF" && year+5 == 2021:
				total += 5
			case citizen == "AF" && year+5 == 2023:
				hum += 10
			}
			flag := ""
			if year+5 == 2024 {
				flag = "p"
			}
			add(citizen, "POS_RFG", year+5, rfg, flag)
			add(citizen, "POS_HUM", year+5, hum, flag)
			add(citizen, "POS_SPROT", year+5, sprot, flag)
			add(citizen, "TOTAL", year+5, total, flag)
		}
	}
	path := filepath.Join(dir, "migr_asydcfsta_sdmx-csv_FR_current-coding_2020-2024.csv")
	writeCSVForTest(t, path, out)
	return path, shipped
}

func writeCSVForTest(t *testing.T, path string, recs [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// esAppssoFigure is one first-time applicants figure of the legacy export.
type esAppssoFigure struct {
	value float64
	flags string
}

// writeCurrentCodingTSV writes an API TSV of annual applications in the
// current coding (applicant FRST, SSEQ, TOTAL) for Russians, Syrians and
// Afghans in the EU-28, 2012-2016, the years of the shipped legacy export:
// FRST is the legacy first-time figure with its flags, except Russians 2016
// revised by 5 (23,055 instead of 23,050); SSEQ a tenth of it, rounded to 5
// (the legacy export has no subsequent applicants; the figure is made up);
// TOTAL = FRST + SSEQ. It returns the legacy figures by citizen code and year.
func writeCurrentCodingTSV(t *testing.T, dir string) (string, map[string]map[int]esAppssoFigure) {
	t.Helper()
	b, err := os.ReadFile(esShippedAppsso)
	if err != nil {
		t.Fatal(err)
	}
	// The shipped file is Windows-1252; the rows used here are ASCII.
	r := csv.NewReader(strings.NewReader(string(b)))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{"Russia": "RU", "Syria": "SY", "Afghanistan": "AF"}
	legacy := map[string]map[int]esAppssoFigure{}
	for _, rec := range recs[1:] {
		code, ok := codes[rec[2]]
		if !ok || rec[1] != "European Union (28 countries)" || rec[3] != "Total" || rec[4] != "Total" {
			continue
		}
		year, _ := strconv.Atoi(rec[0])
		v, err := strconv.ParseFloat(strings.ReplaceAll(rec[7], ",", ""), 64)
		if err != nil {
			t.Fatalf("legacy value %q: %v", rec[7], err)
		}
		if legacy[code] == nil {
			legacy[code] = map[int]esAppssoFigure{}
		}
		legacy[code][year] = esAppssoFigure{v, rec[8]}
	}
	var sb strings.Builder
	sb.WriteString(`freq,unit,citizen,sex,age,applicant,geo\TIME_PERIOD`)
	for y := 2012; y <= 2016; y++ {
		fmt.Fprintf(&sb, "\t%d ", y)
	}
	sb.WriteString("\n")
	for _, code := range []string{"AF", "RU", "SY"} {
		if len(legacy[code]) != 5 {
			t.Fatalf("legacy %s: %d years, want 5", code, len(legacy[code]))
		}
		for _, app := range []string{"FRST", "SSEQ", "TOTAL"} {
			fmt.Fprintf(&sb, "A,PER,%s,T,TOTAL,%s,EU28", code, app)
			for y := 2012; y <= 2016; y++ {
				fig := legacy[code][y]
				frst := fig.value
				if code == "RU" && y == 2016 {
					frst += 5
				}
				v := map[string]float64{"FRST": frst, "SSEQ": round5(frst / 10), "TOTAL": frst + round5(frst/10)}[app]
				fmt.Fprintf(&sb, "\t%s %s", strconv.FormatFloat(v, 'f', -1, 64), fig.flags)
			}
			sb.WriteString("\n")
		}
	}
	path := filepath.Join(dir, "migr_asyappctza_tsv_current-coding_EU28_2012-2016.tsv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, legacy
}

// TestEurostatBothCodings loads the shipped legacy files together with
// current-coding files made from them, and reads observations, the marts and
// the checks across both codings.
func TestEurostatBothCodings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fixtures := t.TempDir()
	sdmxPath, shipped := writeCurrentCodingSDMX(t, fixtures)
	tsvPath, legacy := writeCurrentCodingTSV(t, fixtures)

	cfg := tinyConfig(t, ec2023(t))
	cfg.Sources.Eurostat.Paths = []string{"../data/eurostat", fixtures}
	srcs := sources.All(cfg.SourceConfig())
	inputs, err := describeInputs(ctx, srcs)
	if err != nil {
		t.Fatal(err)
	}
	conn := openDuckConn(t)
	rep := &Report{}
	if err := build(ctx, conn, srcs, inputs, cfg.Limits, "", rep, quietLog(), ""); err != nil {
		t.Fatal(err)
	}
	releaseOf := func(path string) string {
		t.Helper()
		for _, in := range inputs {
			if in.Path == path {
				return in.SHA256[:12]
			}
		}
		t.Fatalf("%s is not an input", path)
		return ""
	}

	t.Run("decisions_positive across both codings", func(t *testing.T) {
		for _, citizen := range []string{"TOTAL", "AF"} {
			rows, err := conn.QueryContext(ctx, `SELECT year, value, decision, flags, release FROM observations
				WHERE dataset = 'eurostat_migr_asydcfsta' AND indicator = 'decisions_positive'
				  AND reporter = 'FR' AND partner = ? AND sex = 'T' AND age = 'TOTAL' AND year BETWEEN 2015 AND 2025
				ORDER BY year`, citizen)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var year int
				var value float64
				var decision, flags, rel string
				if err := rows.Scan(&year, &value, &decision, &flags, &rel); err != nil {
					t.Fatal(err)
				}
				n++
				want, wantDec, wantRel := shipped[esSDMXKey{citizen, "T", "TOTAL", "TOTAL_POS"}][year], "TOTAL_POS", releaseOf(esShippedSDMX)
				if year >= 2020 {
					want, wantDec, wantRel = shipped[esSDMXKey{citizen, "T", "TOTAL", "TOTAL_POS"}][year-5], "POS", releaseOf(sdmxPath)
				}
				if value != want || decision != wantDec || rel != wantRel {
					t.Errorf("%s %d: %v %s from %s, want %v %s from %s", citizen, year, value, decision, rel, want, wantDec, wantRel)
				}
				if citizen == "TOTAL" && (year == 2015 && value != 20630 || year == 2016 && value != 28755) {
					t.Errorf("France, all citizens, %d: %v, want the published 20,630 (2015) and 28,755 (2016)", year, value)
				}
				if wantFlags := map[int]string{2024: "p"}[year]; citizen == "TOTAL" && flags != wantFlags {
					t.Errorf("%s %d: flags %q, want %q", citizen, year, flags, wantFlags)
				}
			}
			rows.Close()
			if n != 10 {
				t.Errorf("%s: %d years 2015-2024, want 10 (one row per year, both codings)", citizen, n)
			}
		}
	})

	t.Run("every decision code on one vocabulary", func(t *testing.T) {
		rows, err := conn.QueryContext(ctx, `SELECT decision, string_agg(DISTINCT indicator, ',') FROM observations
			WHERE dataset = 'eurostat_migr_asydcfsta' GROUP BY decision ORDER BY decision`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var d, ind string
			if err := rows.Scan(&d, &ind); err != nil {
				t.Fatal(err)
			}
			got[d] = ind
		}
		want := map[string]string{"TOTAL": "decisions_total", "TOTAL_POS": "decisions_positive", "REJECTED": "decisions_rejected",
			"POS": "decisions_positive", "NEG": "decisions_rejected", "POS_RFG": "decisions_refugee_status",
			"POS_HUM": "decisions_humanitarian", "POS_SPROT": "decisions_subsidiary_protection"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("decision -> indicator %v, want %v", got, want)
		}
	})

	t.Run("flags: CONF_STATUS appended, new letters mapped", func(t *testing.T) {
		var value sql.NullFloat64
		var flags, meanings string
		err := conn.QueryRowContext(ctx, `SELECT o.value, o.flags, string_agg(f.canonical_meaning, ',' ORDER BY f.canonical_meaning)
			FROM observations o, unnest(string_split(o.flags, '')) AS u(l) JOIN ref_eurostat_flags f ON f.letter = u.l
			WHERE o.dataset = 'eurostat_migr_asydcfsta' AND o.reporter = 'FR' AND o.partner = 'KP' AND o.sex = 'T'
			  AND o.age = 'TOTAL' AND o.decision = 'NEG' AND o.year = 2024 GROUP BY ALL`).Scan(&value, &flags, &meanings)
		if err != nil {
			t.Fatal(err)
		}
		if value.Valid || flags != "pC" || meanings != "confidential,provisional" {
			t.Errorf("KP 2024 NEG: value %v, flags %q (%s), want NULL, \"pC\" (confidential,provisional)", value, flags, meanings)
		}
		if err := conn.QueryRowContext(ctx, `SELECT o.flags, f.canonical_meaning FROM observations o JOIN ref_eurostat_flags f ON f.letter = o.flags
			WHERE o.dataset = 'eurostat_migr_asydcfsta' AND o.reporter = 'FR' AND o.partner = 'AF' AND o.sex = 'T'
			  AND o.age = 'TOTAL' AND o.decision = 'POS' AND o.year = 2020`).Scan(&flags, &meanings); err != nil {
			t.Fatal(err)
		}
		var old string
		if err := conn.QueryRowContext(ctx, `SELECT string_agg(DISTINCT canonical_meaning, ',') FROM ref_eurostat_flags WHERE letter = 's'`).Scan(&old); err != nil {
			t.Fatal(err)
		}
		if flags != "i" || meanings != "imputed" || old != meanings {
			t.Errorf("AF 2020 POS: flags %q meaning %q; old s means %q; want i, imputed, the same", flags, meanings, old)
		}
	})

	t.Run("mart across both codings", func(t *testing.T) {
		type row struct {
			positive, rejected sql.NullInt64
			provisional        bool
		}
		got := map[int]row{}
		rows, err := conn.QueryContext(ctx, `SELECT year, decisions_positive, decisions_rejected, provisional FROM asylum_citizenship_year
			WHERE reporter = 'FR' AND citizenship = 'TOTAL' AND year IN (2016, 2021, 2024)`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var y int
			var r row
			if err := rows.Scan(&y, &r.positive, &r.rejected, &r.provisional); err != nil {
				t.Fatal(err)
			}
			got[y] = r
		}
		rows.Close()
		pos := shipped[esSDMXKey{"TOTAL", "T", "TOTAL", "TOTAL_POS"}]
		rej := shipped[esSDMXKey{"TOTAL", "T", "TOTAL", "REJECTED"}]
		for year, from := range map[int]int{2016: 2016, 2021: 2016, 2024: 2019} {
			g := got[year]
			if g.positive.Int64 != int64(pos[from]) || g.rejected.Int64 != int64(rej[from]) || g.provisional != (year == 2024) {
				t.Errorf("FR all citizens %d: %+v, want positive %v, rejected %v, provisional %v", year, g, pos[from], rej[from], year == 2024)
			}
		}
	})

	t.Run("applicants: current coding wins over the legacy export", func(t *testing.T) {
		for _, code := range []string{"RU", "SY"} {
			for y := 2012; y <= 2016; y++ {
				fig := legacy[code][y]
				frst := fig.value
				if code == "RU" && y == 2016 {
					frst += 5
				}
				want := map[string]float64{"first_time_applicants": frst, "subsequent_applicants": round5(frst / 10), "asylum_applicants": frst + round5(frst/10)}
				wantCode := map[string]string{"first_time_applicants": "FRST", "subsequent_applicants": "SSEQ", "asylum_applicants": "TOTAL"}
				rows, err := conn.QueryContext(ctx, `SELECT indicator, applicant_type, value, flags, release FROM observations
					WHERE dataset = 'eurostat_migr_asyappctza' AND reporter = 'EU28' AND partner = ? AND year = ? AND sex = 'T' AND age = 'TOTAL'`, code, y)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for rows.Next() {
					var ind, app, flags, rel string
					var v float64
					if err := rows.Scan(&ind, &app, &v, &flags, &rel); err != nil {
						t.Fatal(err)
					}
					n++
					if v != want[ind] || app != wantCode[ind] || flags != fig.flags || rel != releaseOf(tsvPath) {
						t.Errorf("%s %d %s: %v %s %q from %s, want %v %s %q from the TSV", code, y, ind, v, app, flags, rel, want[ind], wantCode[ind], fig.flags)
					}
				}
				rows.Close()
				if n != 3 {
					t.Errorf("%s %d: %d rows, want 3 (FRST, SSEQ, TOTAL; NASY_APP superseded)", code, y, n)
				}
			}
		}
		var first, all int64
		var flags string
		if err := conn.QueryRowContext(ctx, `SELECT first_time_applicants, asylum_applicants, flags FROM asylum_citizenship_year
			WHERE reporter = 'EU28' AND citizenship = 'RU' AND year = 2012`).Scan(&first, &all, &flags); err != nil {
			t.Fatal(err)
		}
		if first != 17445 || all != 17445+1745 || flags != "d" {
			t.Errorf("EU-28 Russians 2012: first-time %d, all %d, flags %q; want 17,445, 19,190, d", first, all, flags)
		}
		var raw int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM raw_eurostat_asylum WHERE dataset = 'migr_asyappctza'
			AND citizen IN ('RU', 'Russia') AND geo IN ('EU28', 'European Union (28 countries)') AND period = '2012'
			AND applicant IN ('NASY_APP', 'FRST')`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if raw != 2 {
			t.Errorf("raw first-time cells of EU-28 Russians 2012: %d, want 2 (legacy NASY_APP and current FRST)", raw)
		}
	})

	t.Run("checks", func(t *testing.T) {
		got := map[string]release.Check{}
		for _, c := range rep.Checks {
			got[c.Name] = c
		}
		// The revised Russian 2016 figure is the one disagreeing overlap.
		ov := got["eurostat_overlaps"]
		if ov.Problems != 1 || !strings.Contains(strings.Join(ov.Sample, ";"), "indicator=first_time_applicants reporter=EU28 partner=RU period=2016") {
			t.Errorf("eurostat_overlaps: %d problems %v, want the one for EU-28 Russians 2016", ov.Problems, ov.Sample)
		}
		checks, err := vsql.Checks()
		if err != nil {
			t.Fatal(err)
		}
		var sqlText string
		for _, c := range checks {
			if c.Name == "eurostat_decisions_reconcile" {
				sqlText = c.SQL
			}
		}
		if sqlText == "" {
			t.Fatal("no eurostat_decisions_reconcile check")
		}
		rows, err := conn.QueryContext(ctx, `SELECT partner, period, rule, difference, tolerance FROM (`+strings.TrimRight(strings.TrimSpace(stripSQLComments(sqlText)), ";")+`)`)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for rows.Next() {
			var partner, period, rule string
			var diff float64
			var tol int
			if err := rows.Scan(&partner, &period, &rule, &diff, &tol); err != nil {
				t.Fatal(err)
			}
			listed = append(listed, fmt.Sprintf("%s %s %s %v/%d", partner, period, rule, diff, tol))
		}
		rows.Close()
		want := "AF 2023 POS_RFG + POS_HUM + POS_SPROT vs POS 10/8|TOTAL 2022 POS + NEG vs TOTAL -15/6"
		if strings.Join(listed, "|") != want {
			t.Errorf("reconciliation lists %q, want %q", strings.Join(listed, "|"), want)
		}
		if r := got["eurostat_decisions_reconcile"]; r.Blocking || r.Problems != 2 {
			t.Errorf("eurostat_decisions_reconcile in the run: blocking %v, %d problems, want a warning with 2", r.Blocking, r.Problems)
		}
		// The legacy export differs from its totals by 5 in many rows:
		// within the tolerance, none of them is listed.
		var off5 int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (
			SELECT sum(value) FILTER (WHERE decision IN ('TOTAL_POS', 'REJECTED')) - max(value) FILTER (WHERE decision = 'TOTAL') AS d
			FROM observations WHERE dataset = 'eurostat_migr_asydcfsta' AND year < 2015 GROUP BY reporter, partner, period, sex, age)
			WHERE abs(d) = 5`).Scan(&off5); err != nil {
			t.Fatal(err)
		}
		if off5 < 50 {
			t.Errorf("%d legacy rows where positive + rejected differs from total by 5, want many (rounding to 5)", off5)
		}
	})
}

// stripSQLComments removes "--" comment lines so that a check's statement
// can be wrapped in a subquery.
func stripSQLComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
