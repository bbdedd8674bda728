package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"golang.org/x/text/encoding/charmap"
)

// The fuzz tests run each parser on arbitrary bytes. It must not panic, and
// every row it accepts must say what the input said: the test reads the
// input again with a plain, independent split and compares value and flags
// cell by cell.

// esParsedRow is one parsed cell, decoded from the record batches.
type esParsedRow struct {
	line   int64
	dims   [esNDict]string
	value  float64
	hasVal bool
}

func parseForFuzz(t *testing.T, data []byte, parse func(*bufio.Reader, *eurostatBatcher) error) ([]esParsedRow, error) {
	t.Helper()
	type cell struct {
		series, period, flag int
		line                 int64
		hasLine              bool
		value                float64
		hasVal               bool
	}
	var cells []cell
	// Small batches keep each run cheap and cross batch boundaries.
	st := &eurostatStore{nextSeries: 3}
	b := newEurostatBatcher(st, "fuzz", 7, func(rec arrow.Record) error {
		defer rec.Release()
		sid := rec.Column(0).(*array.Int32)
		period := rec.Column(1).(*array.Uint16)
		line := rec.Column(2).(*array.Int32)
		val := rec.Column(3).(*array.Float64)
		flag := rec.Column(4).(*array.Uint16)
		for i := 0; i < int(rec.NumRows()); i++ {
			cells = append(cells, cell{series: int(sid.Value(i)), period: int(period.Value(i)), flag: int(flag.Value(i)),
				line: int64(line.Value(i)), hasLine: line.IsValid(i), value: val.Value(i), hasVal: val.IsValid(i)})
		}
		return nil
	})
	err := parse(bufio.NewReader(bytes.NewReader(data)), b)
	if err == nil {
		err = b.flush()
	}
	rows := make([]esParsedRow, 0, len(cells))
	for _, c := range cells {
		s := b.series[c.series-int(b.first)]
		r := esParsedRow{line: s.line, hasVal: c.hasVal, value: c.value}
		if c.hasLine {
			r.line = c.line
		}
		for j, k := range esSeriesDims {
			r.dims[k] = st.dicts[k].values[s.key[j]]
		}
		r.dims[esPeriod] = st.dicts[esPeriod].values[c.period]
		r.dims[esFlags] = st.dicts[esFlags].values[c.flag]
		freq, _, _ := eurostatPeriodParts(r.dims[esPeriod])
		r.dims[esFreq] = string(freq)
		rows = append(rows, r)
	}
	return rows, err
}

// checkCellText compares a parsed value with the text it came from.
func checkCellText(t *testing.T, r esParsedRow, num string, thousands bool) {
	t.Helper()
	num = strings.TrimSpace(num)
	if !r.hasVal {
		if num != ":" && num != "" {
			t.Fatalf("line %d: NULL from %q", r.line, num)
		}
		return
	}
	if thousands {
		num = strings.ReplaceAll(num, ",", "")
	}
	want, err := strconv.ParseFloat(num, 64)
	if err != nil || want != r.value {
		t.Fatalf("line %d: value %v from %q (%v)", r.line, r.value, num, err)
	}
}

func fuzzSeeds(f *testing.F, lines int, paths ...string) {
	f.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		parts := bytes.SplitAfter(b, []byte{'\n'})
		if len(parts) > lines {
			parts = parts[:lines]
		}
		f.Add(bytes.Join(parts, nil))
	}
}

func FuzzEurostatTSV(f *testing.F) {
	fuzzSeeds(f, 6,
		filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"),
		filepath.Join(esTestdata, "migr_asyappctza_fixture_bulk_geo_time_desc.tsv"),
		filepath.Join(esTestdata, "migr_asyappctzm_fixture_bulk_months.tsv"),
		filepath.Join(esTestdata, "bad", "migr_asyappctzm_ragged.tsv"),
		filepath.Join(esTestdata, "bad", "migr_asyappctzm_unknown_flag.tsv"),
	)
	// A seed in the current API's form: quarters, and the
	// confidentiality status after an @.
	f.Add([]byte("freq,unit,citizen,sex,age,decision,geo\\TIME_PERIOD\t2019-Q3 \t2019-Q4 \nQ,PER,AF,T,TOTAL,NEG,FR\t: @C\t7.0 p@C\nQ,PER,SY,T,TOTAL,POS,FR\t12 bdep\t5 \n"))
	cl := testCodeLists(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		meta := &eurostatFileMeta{path: "fuzz.tsv", dataset: "migr_fuzz", format: eurostatFormatTSV, coding: "code", codes: cl}
		rows, err := parseForFuzz(t, data, func(r *bufio.Reader, b *eurostatBatcher) error {
			return parseEurostatTSV(context.Background(), r, meta, b)
		})
		if err != nil {
			return
		}
		lines := strings.Split(string(data), "\n")
		header := strings.Split(strings.TrimSuffix(lines[0], "\r"), "\t")
		col := map[string]int{}
		for j, h := range header[1:] {
			p, _, perr := eurostatPeriod([]byte(strings.TrimSpace(h)))
			if perr != nil {
				t.Fatalf("accepted header period %q", h)
			}
			col[p] = j + 1
		}
		for _, r := range rows {
			fields := strings.Split(strings.TrimSuffix(lines[r.line-1], "\r"), "\t")
			j, ok := col[r.dims[esPeriod]]
			if !ok || len(fields) != len(header) {
				t.Fatalf("line %d: period %q, %d fields, header %d", r.line, r.dims[esPeriod], len(fields), len(header))
			}
			cell := strings.TrimRight(fields[j], " ")
			num, flags, _ := strings.Cut(cell, " ")
			checkCellText(t, r, num, false)
			// The confidentiality status after @ follows the
			// observation status letters.
			obs, conf, _ := strings.Cut(strings.TrimSpace(flags), "@")
			if got := r.dims[esFlags]; got != obs+conf {
				t.Fatalf("line %d: flags %q from %q", r.line, got, cell)
			}
			if !utf8.ValidString(r.dims[esCitizen]) || !utf8.ValidString(r.dims[esGeo]) {
				t.Fatalf("line %d: invalid UTF-8 accepted", r.line)
			}
		}
	})
}

// csvRecordsByLine reads data independently and indexes records by line.
func csvRecordsByLine(t *testing.T, r io.Reader) ([]string, map[int64][]string) {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		t.Fatalf("parser accepted what encoding/csv rejects: %v", err)
	}
	header = append([]string(nil), header...)
	recs := map[int64][]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parser accepted what encoding/csv rejects: %v", err)
		}
		line, _ := cr.FieldPos(0)
		recs[int64(line)] = rec
	}
	return header, recs
}

func headerIndex(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), name) {
			return i
		}
	}
	return -1
}

func FuzzEurostatSDMX(f *testing.F) {
	fuzzSeeds(f, 8,
		filepath.Join(esTestdata, "migr_asydcfsta_sdmx_excerpt.csv"),
		filepath.Join(esTestdata, "bad", "migr_asydcfsta_sdmx_latin1.csv"),
	)
	// A seed in the current API's form: a CONF_STATUS column after
	// OBS_FLAG, the current decision codes, new flag letters.
	cur := `DATAFLOW,LAST UPDATE,freq,unit,citizen,sex,age,decision,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS
ESTAT:MIGR_ASYDCFSTA(1.0),03/06/21 11:00:00,A,PER,AF,T,TOTAL,NEG,FR,2024,140,p,
ESTAT:MIGR_ASYDCFSTA(1.0),03/06/21 11:00:00,A,PER,AF,T,TOTAL,POS_RFG,FR,2024,:,p,C
ESTAT:MIGR_ASYDCFSTA(1.0),03/06/21 11:00:00,A,PER,AF,T,TOTAL,POS,FR,2023,1200,i,
`
	f.Add([]byte(cur))
	cl := testCodeLists(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := sniffSDMXDataset("fuzz.csv", bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		meta := &eurostatFileMeta{path: "fuzz.csv", dataset: ds, format: eurostatFormatSDMX, coding: "code", codes: cl}
		rows, err := parseForFuzz(t, data, func(r *bufio.Reader, b *eurostatBatcher) error {
			return parseEurostatSDMX(context.Background(), r, meta, b)
		})
		if err != nil {
			return
		}
		header, recs := csvRecordsByLine(t, bytes.NewReader(data))
		vi, fi, ci := headerIndex(header, "OBS_VALUE"), headerIndex(header, "OBS_FLAG"), headerIndex(header, "CONF_STATUS")
		for _, r := range rows {
			rec, ok := recs[r.line]
			if !ok {
				t.Fatalf("line %d: no record there", r.line)
			}
			checkCellText(t, r, rec[vi], false)
			flags := ""
			if fi >= 0 {
				flags = strings.TrimSpace(rec[fi])
			}
			if ci >= 0 {
				flags += strings.TrimSpace(rec[ci])
			}
			if r.dims[esFlags] != flags {
				t.Fatalf("line %d: flags %q from %q", r.line, r.dims[esFlags], flags)
			}
		}
	})
}

func FuzzEurostatAppsso(f *testing.F) {
	fuzzSeeds(f, 8,
		filepath.Join(esTestdata, "migr_asyappctza_appsso_excerpt.csv"),
		filepath.Join(esTestdata, "migr_asydcfsta_appsso_excerpt.csv"),
		filepath.Join(esTestdata, "bad", "migr_asyappctza_appsso_unknown_sex.csv"),
	)
	cl := testCodeLists(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		utf8OK := utf8.Valid(data)
		meta := &eurostatFileMeta{path: "fuzz.csv", dataset: "migr_fuzz", format: eurostatFormatAppsso, coding: "label", codes: cl}
		rows, err := parseForFuzz(t, data, func(r *bufio.Reader, b *eurostatBatcher) error {
			return parseEurostatAppsso(context.Background(), r, utf8OK, meta, b)
		})
		if err != nil {
			return
		}
		var in io.Reader = bytes.NewReader(data)
		if !utf8OK {
			in = charmap.Windows1252.NewDecoder().Reader(in)
		}
		header, recs := csvRecordsByLine(t, in)
		vi, fi := headerIndex(header, "Value"), headerIndex(header, "Flag and Footnotes")
		for _, r := range rows {
			rec, ok := recs[r.line]
			if !ok {
				t.Fatalf("line %d: no record there", r.line)
			}
			checkCellText(t, r, rec[vi], true)
			flags := ""
			if fi >= 0 {
				flags = strings.TrimSpace(rec[fi])
			}
			if r.dims[esFlags] != flags {
				t.Fatalf("line %d: flags %q from %q", r.line, r.dims[esFlags], flags)
			}
		}
	})
}
