package sources

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// Eurostat's current API publishes quarterly datasets (migr_asydcfstq), the
// current decision codes (POS, NEG) and, since 27 January 2025, the
// confidentiality status apart from the observation status: after an "@"
// in TSV cells (": @C", "7.0 p@C"), in a CONF_STATUS column in SDMX-CSV.
// No such real asylum file is shipped, so the tests here make them from
// the real FR 2015-2019 migr_asydcfsta SDMX-CSV: each annual figure of
// year Y is labelled as the quarter Y-Q4, TOTAL_POS becomes POS and
// REJECTED NEG, and some cells get flags. The figures asserted are the
// real file's.

// esRealRow is one row of the real SDMX-CSV.
type esRealRow struct {
	citizen, sex, age, decision, year, value string
}

// readRealFR reads the real FR SDMX-CSV.
func readRealFR(t *testing.T) []esRealRow {
	t.Helper()
	f, err := os.Open(esSDMXDec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var rows []esRealRow
	for _, r := range recs[1:] {
		if r[col["geo"]] != "FR" || r[col["unit"]] != "PER" || r[col["freq"]] != "A" {
			t.Fatalf("row %v: not an annual FR count of persons", r)
		}
		rows = append(rows, esRealRow{r[col["citizen"]], r[col["sex"]], r[col["age"]], r[col["decision"]], r[col["TIME_PERIOD"]], r[col["OBS_VALUE"]]})
	}
	return rows
}

// currentDecision maps the real file's legacy decision codes to the
// current ones.
func currentDecision(t *testing.T, legacy string) string {
	t.Helper()
	switch legacy {
	case "TOTAL_POS":
		return "POS"
	case "REJECTED":
		return "NEG"
	}
	t.Fatalf("decision %q: not in the real file's codes", legacy)
	return ""
}

// esCellEdit is how a cell of the converted file is written: the value
// (":" or "" for none), the OBS_FLAG letters and the CONF_STATUS letters,
// with what the loader must make of it.
type esCellEdit struct {
	value, obs, conf string
	want             sql.NullFloat64
	flags            string
}

// editRealCell decides the flags of a real cell: a real 0 becomes a
// confidential cell without value, Syria's cells are provisional and
// confidential and written with a decimal, Georgia's carry four
// observation letters; the rest stay as published.
func editRealCell(t *testing.T, r esRealRow) esCellEdit {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(r.value, &v); err != nil {
		t.Fatalf("real value %q: %v", r.value, err)
	}
	switch {
	case r.value == "0":
		return esCellEdit{value: ":", conf: "C", want: esNull, flags: "C"}
	case r.citizen == "SY":
		return esCellEdit{value: r.value + ".0", obs: "p", conf: "C", want: num(v), flags: "pC"}
	case r.citizen == "GE":
		return esCellEdit{value: r.value, obs: "bdep", want: num(v), flags: "bdep"}
	}
	return esCellEdit{value: r.value, want: num(v)}
}

// quarterOf labels the real year as its fourth quarter, spelled as
// Eurostat's API ("2019-Q4") or its older bulk files ("2019Q4") do.
func quarterOf(year string, dash bool) string {
	if dash {
		return year + "-Q4"
	}
	return year + "Q4"
}

// quarterlyTSV converts the real rows into an API TSV of migr_asydcfstq.
func quarterlyTSV(t *testing.T, rows []esRealRow, dash bool) []byte {
	t.Helper()
	type key struct{ citizen, sex, age, decision string }
	cells := map[key]map[string]string{}
	years := map[string]bool{}
	for _, r := range rows {
		k := key{r.citizen, r.sex, r.age, currentDecision(t, r.decision)}
		if cells[k] == nil {
			cells[k] = map[string]string{}
		}
		e := editRealCell(t, r)
		cell := e.value + " " + e.obs
		if e.conf != "" {
			cell += "@" + e.conf
		}
		cells[k][r.year] = cell
		years[r.year] = true
	}
	ys := make([]string, 0, len(years))
	for y := range years {
		ys = append(ys, y)
	}
	sort.Strings(ys)
	keys := make([]key, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.citizen+","+a.sex+","+a.age+","+a.decision < b.citizen+","+b.sex+","+b.age+","+b.decision
	})
	var b bytes.Buffer
	b.WriteString(`freq,unit,citizen,sex,age,decision,geo\TIME_PERIOD`)
	for _, y := range ys {
		b.WriteString("\t" + quarterOf(y, dash) + " ")
	}
	b.WriteString("\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "Q,PER,%s,%s,%s,%s,FR", k.citizen, k.sex, k.age, k.decision)
		for _, y := range ys {
			c, ok := cells[k][y]
			if !ok {
				c = ": "
			}
			b.WriteString("\t" + c)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// quarterlySDMX2 converts the real rows into SDMX-CSV 2.0 of
// migr_asydcfstq, as the SDMX 3.0 API's csvdata answers.
func quarterlySDMX2(t *testing.T, rows []esRealRow) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"STRUCTURE", "STRUCTURE_ID", "freq", "unit", "citizen", "sex", "age", "decision", "geo", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"})
	for _, r := range rows {
		e := editRealCell(t, r)
		if e.value == ":" {
			e.value = "" // SDMX-CSV leaves a missing value empty
		}
		w.Write([]string{"dataflow", "ESTAT:MIGR_ASYDCFSTQ(1.0)", "Q", "PER", r.citizen, r.sex, r.age, currentDecision(t, r.decision), "FR",
			quarterOf(r.year, true), e.value, e.obs, e.conf})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEurostatQuarterlyCurrentAPI loads the real FR decisions as the
// current API would publish them quarterly, in the TSV (gzip, both
// spellings of a quarter) and in SDMX-CSV 2.0: every real cell loads as a
// quarter of its year with no month, figures and flags as the real file
// and the edits say.
func TestEurostatQuarterlyCurrentAPI(t *testing.T) {
	rows := readRealFR(t)
	// The figures asserted, from the real file.
	real := func(citizen, decision, year string) esRealRow {
		for _, r := range rows {
			if r.citizen == citizen && r.decision == decision && r.year == year && r.sex == "T" && r.age == "TOTAL" {
				return r
			}
		}
		t.Fatalf("no real row %s %s %s", citizen, decision, year)
		return esRealRow{}
	}
	zeros := 0
	for _, r := range rows {
		if r.value == "0" {
			zeros++
		}
	}
	files := []struct {
		name, file string
		data       []byte
		format     string
	}{
		{"API TSV, gzip", "migr_asydcfstq.tsv.gz", gzipBytes(t, quarterlyTSV(t, rows, true)), "tsv"},
		{"bulk TSV, 2019Q4", "migr_asydcfstq_bulk.tsv", quarterlyTSV(t, rows, false), "tsv"},
		{"SDMX-CSV 2.0", "migr_asydcfstq_citizen-all.csv", quarterlySDMX2(t, rows), "sdmx_csv"},
	}
	cells := []struct {
		name                    string
		citizen, decision, year string
		legacy                  string // the real file's decision code
	}{
		{"Afghanistan rejected 2019", "AF", "NEG", "2019", "REJECTED"},
		{"Afghanistan positive 2017", "AF", "POS", "2017", "TOTAL_POS"},
		{"all citizens rejected 2019", "TOTAL", "NEG", "2019", "REJECTED"},
		{"Syria positive 2015, p@C", "SY", "POS", "2015", "TOTAL_POS"},
		{"Georgia rejected 2019, bdep", "GE", "NEG", "2019", "REJECTED"},
		{"United Arab Emirates rejected 2015, a real 0 made : @C", "AE", "NEG", "2015", "REJECTED"},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			conn, st := loadEurostatForTest(t, unhcrWriteTemp(t, f.file, f.data))
			if got := st.Tables["raw_eurostat_cells"]; got != int64(len(rows)) {
				t.Errorf("%d cells, want the real file's %d", got, len(rows))
			}
			for _, c := range cells {
				t.Run(c.name, func(t *testing.T) {
					want := editRealCell(t, real(c.citizen, c.legacy, c.year))
					got := queryEurostatCell(t, conn, map[string]string{"dataset": "migr_asydcfstq", "format": f.format, "freq": "Q",
						"citizen": c.citizen, "decision": c.decision, "geo": "FR", "sex": "T", "age": "TOTAL", "period": c.year + "-Q4"})
					if got.value != want.want || got.flags != want.flags {
						t.Errorf("value %v flags %q, want %v %q", got.value, got.flags, want.want, want.flags)
					}
				})
			}
			var confidential int
			if err := conn.QueryRowContext(context.Background(),
				`SELECT count(*) FROM raw_eurostat_asylum WHERE value IS NULL AND flags = 'C'`).Scan(&confidential); err != nil {
				t.Fatal(err)
			}
			if confidential != zeros {
				t.Errorf("%d confidential cells without value, want one per real 0 (%d)", confidential, zeros)
			}
			// Quarters are periods of their own: freq Q, the year, no
			// month, so that nothing reads them as a year or a month.
			prow, err := conn.QueryContext(context.Background(),
				`SELECT period, freq, year, coalesce(CAST(month AS VARCHAR), 'NULL') FROM raw_eurostat_periods ORDER BY period`)
			if err != nil {
				t.Fatal(err)
			}
			defer prow.Close()
			var got []string
			for prow.Next() {
				var p, freq, month string
				var year int
				if err := prow.Scan(&p, &freq, &year, &month); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %s %d %s", p, freq, year, month))
			}
			want := []string{"2015-Q4 Q 2015 NULL", "2016-Q4 Q 2016 NULL", "2017-Q4 Q 2017 NULL", "2018-Q4 Q 2018 NULL", "2019-Q4 Q 2019 NULL"}
			if strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Errorf("periods %q, want %q", got, want)
			}
		})
	}
}

// TestEurostatPeriodQuarters: quarters in both spellings normalise to
// YYYY-Qq; anything else that looks like one is refused.
func TestEurostatPeriodQuarters(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		freq     byte
	}{
		{"2025-Q2", "2025-Q2", 'Q'},
		{"2025Q2", "2025-Q2", 'Q'},
		{"2019Q1", "2019-Q1", 'Q'},
		{"2019-Q4", "2019-Q4", 'Q'},
		{"2019-05", "2019-05", 'M'},
		{"2019M05", "2019-05", 'M'},
		{"2019", "2019", 'A'},
		{"2025-Q5", "", 0},
		{"2025Q0", "", 0},
		{"2025-Q", "", 0},
		{"2025-q2", "", 0},
		{"2025QQ2", "", 0},
		{"2025-Q21", "", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, freq, err := eurostatPeriod([]byte(tc.in))
			if tc.want == "" {
				if !errors.Is(err, errEurostatNoPeriod) {
					t.Errorf("%q: %q %c %v, want errEurostatNoPeriod", tc.in, got, freq, err)
				}
				return
			}
			if err != nil || got != tc.want || freq != tc.freq {
				t.Errorf("%q: %q %c %v, want %q %c", tc.in, got, freq, err, tc.want, tc.freq)
			}
			if f, _, _ := eurostatPeriodParts(got); f != tc.freq {
				t.Errorf("parts of %q: freq %c, want %c", got, f, tc.freq)
			}
		})
	}
}

// TestEurostatTSVConfStatusErrors: what follows an "@" in a TSV cell must
// be confidentiality status letters; the error names the cell and the flag
// list. The cells are put into the real monthly fixture.
func TestEurostatTSVConfStatusErrors(t *testing.T) {
	fixture := unhcrReadFixture(t, esTestdata+"/migr_asyappctzm_fixture_api.tsv")
	for _, tc := range []struct {
		name, cell, want string
	}{
		{"lower-case c after @", ": @c", `"c": after @ come only the conf_status letters`},
		{"observation letter after @", "5 @p", `"p": after @ come only the conf_status letters`},
		{"nothing after @", "5 p@", "an @ without a confidentiality status"},
		{"two @", "5 p@C@C", `"@": after @ come only the conf_status letters`},
		{"unknown letter before @", "5 x@C", `unknown observation flag "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Line 2's first cell is "5 p".
			data := replaceLine(t, fixture, 2, func(s string) string { return strings.Replace(s, "\t5 p\t", "\t"+tc.cell+"\t", 1) })
			if bytes.Equal(data, fixture) {
				t.Fatal("the fixture's line 2 has no cell 5 p")
			}
			_, le, err := loadEurostatEdited(t, "migr_asyappctzm_conf.tsv", data)
			if !errors.Is(err, ErrEurostatUnknownFlag) || le.Line != 2 || le.Column != "2" || le.Value != tc.cell || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (line %d column %s value %q), want an unknown flag at line 2 column 2 saying %s", err, le.Line, le.Column, le.Value, tc.want)
			}
			if strings.Contains(tc.want, "conf_status") && !strings.Contains(err.Error(), EurostatFlagsFile) {
				t.Errorf("err = %v, want it to name %s", err, EurostatFlagsFile)
			}
		})
	}
}
