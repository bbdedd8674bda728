package sources

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// openQuoteAt returns real with a quote opened before the field that
// starts with field on line line (1-based), and every quote after it
// removed, so that the quoted field runs to the end of the file as it does
// when a publisher or an editor drops a closing quote.
func openQuoteAt(t *testing.T, real []byte, line int, field string) []byte {
	t.Helper()
	start := 0
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(real[start:], '\n')
		if j < 0 {
			t.Fatalf("fewer than %d lines", line)
		}
		start += j + 1
	}
	end := start + bytes.IndexByte(real[start:], '\n')
	at := bytes.Index(real[start:end], []byte(field))
	if at < 0 {
		t.Fatalf("line %d lacks %q: %s", line, field, real[start:end])
	}
	at += start
	var b bytes.Buffer
	b.Write(real[:at])
	b.WriteByte('"')
	b.Write(bytes.ReplaceAll(real[at:], []byte(`"`), nil))
	return b.Bytes()
}

// TestCSVRecordLimit opens a quote that never closes in each CSV reader's
// real file: every reader must stop once the record passes
// limits.max_record_bytes, with a *LimitError naming the file and the line
// where the record starts, instead of reading the rest of the file into
// one field.
func TestCSVRecordLimit(t *testing.T) {
	const max = 64 << 10
	limits := Limits{MaxRecordBytes: max}
	ctx := context.Background()
	repeat := func(b []byte, n int) []byte { return bytes.Repeat(b, n) }
	for _, tc := range []struct {
		name string
		file string
		data func(t *testing.T) []byte
		line int64
		load func(t *testing.T, path string) error
	}{
		{"unhcr export", "rdf_asylum-applications.csv",
			func(t *testing.T) []byte { return openQuoteAt(t, unhcrReadFixture(t, unhcrApplicationsCSV), 4, "58") }, 4,
			func(t *testing.T, p string) error {
				_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"unhcr export with a preamble", "rdf_solutions.csv",
			func(t *testing.T) []byte {
				// The preamble of a real export, then a real table.
				solutions := unhcrReadFixture(t, unhcrSolutionsCSV)
				preamble := solutions[:bytes.Index(solutions, []byte("\nYear,"))+1]
				real := append(preamble, unhcrReadFixture(t, unhcrApplicationsCSV)...)
				return openQuoteAt(t, real, bytes.Count(preamble, []byte("\n"))+4, "58")
			}, 19,
			func(t *testing.T, p string) error {
				_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"unhcr refugees package, gzipped", "refugees_asylum_decisions.csv.gz",
			func(t *testing.T) []byte {
				return gzipBytes(t, openQuoteAt(t, unhcrHead(t, unhcrPkgDecisions, 5000), 3, "5,0,24"))
			}, 3,
			func(t *testing.T, p string) error {
				_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"eurostat sdmx csv", "migr_asydcfsta_sdmx.csv",
			func(t *testing.T) []byte { return openQuoteAt(t, unhcrReadFixture(t, esSDMXDec), 3, "2016,0,") }, 3,
			func(t *testing.T, p string) error {
				_, err := NewEurostat(EurostatConfig{Paths: []string{p}, CodeLists: esCodeLists, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"eurostat appsso csv", "migr_asyappctza_appsso.csv",
			func(t *testing.T) []byte { return openQuoteAt(t, unhcrReadFixture(t, esAppssoApps), 3, `"90"`) }, 3,
			func(t *testing.T, p string) error {
				_, err := NewEurostat(EurostatConfig{Paths: []string{p}, CodeLists: esCodeLists, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"eurostat code list", EurostatCodesFile,
			func(t *testing.T) []byte {
				real := unhcrReadFixture(t, filepath.Join(esCodeLists, EurostatCodesFile))
				return append(openQuoteAt(t, real, 2, "A,all"), repeat(bytes.ReplaceAll(real, []byte(`"`), nil), 100)...)
			}, 2,
			func(t *testing.T, p string) error {
				dir := filepath.Dir(p)
				unhcrWriteTempIn(t, dir, EurostatFlagsFile, unhcrReadFixture(t, filepath.Join(esCodeLists, EurostatFlagsFile)))
				_, err := NewEurostat(EurostatConfig{Paths: []string{esSDMXDec}, CodeLists: dir, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"ru mfa curated csv", "ru_mfa.csv",
			func(t *testing.T) []byte {
				real := unhcrReadFixture(t, ruMFACSV)
				return append(openQuoteAt(t, real, 2, "512000"), repeat(bytes.ReplaceAll(real, []byte(`"`), nil), 100)...)
			}, 2,
			func(t *testing.T, p string) error {
				_, err := NewRUMFA(RUMFAConfig{Path: p, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
		{"claims registry", "claims.csv",
			func(t *testing.T) []byte {
				real := unhcrReadFixture(t, "testdata/claims/claims.csv")
				return append(openQuoteAt(t, real, 2, "-24,whole"), repeat(bytes.ReplaceAll(real, []byte(`"`), nil), 40)...)
			}, 2,
			func(t *testing.T, p string) error {
				_, err := NewClaims(ClaimsConfig{Path: p, Limits: limits}).Load(ctx, openTestDB(t))
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unhcrWriteTemp(t, tc.file, tc.data(t))
			err := tc.load(t, p)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v, want ErrLimit", err)
			}
			var le *LocatedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v (%T), want a *LocatedError", err, err)
			}
			if le.Line < 2 || tc.line > 0 && le.Line != tc.line {
				t.Errorf("line %d, want %d: %v", le.Line, tc.line, err)
			}
			for _, w := range []string{p, "line " + strconv.FormatInt(le.Line, 10), "limits.max_record_bytes", "quoted field"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRecordLimitReader checks the record bound against encoding/csv's
// quoting rules: quoted newlines and doubled quotes stay in the record,
// empty lines do not start one, and the line reported is where the record
// starts.
func TestRecordLimitReader(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		max      int64
		chunk    int
		wantLine int64 // 0: no error
	}{
		{"short records", "a,b\nc,d\n", 4, 100, 0},
		{"quoted newline within the limit", "h\n\"a\nb\",c\nd\n", 8, 3, 0},
		{"quoted newline over the limit", "h\n\"a\nbcdefgh\",c\nd\n", 8, 3, 2},
		{"doubled quotes stay quoted", "h\nx,\"a\"\"\nbcdefghij\"\n", 8, 100, 2},
		{"closed quote ends the record", "h\n\"ab\"\ncdefg\nhijk\n", 6, 1, 0},
		{"empty lines are not a record", "h\n\n\n\"abcdefghij\n", 8, 2, 4},
		{"crlf", "h\r\n\"a\r\nb\"\r\nc\r\n", 8, 100, 0},
		{"an unclosed quote after a field", "h\nab,\"cd\nefghijkl\n", 8, 4, 2},
		{"one line over the limit", "h\nabcdefghijk\n", 8, 100, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecordLimitReader(strings.NewReader(tc.text), "f.csv", 1, Limits{MaxRecordBytes: tc.max})
			_, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, make([]byte, tc.chunk))
			var le *LocatedError
			switch {
			case tc.wantLine == 0 && err != nil:
				t.Errorf("%v", err)
			case tc.wantLine > 0 && (!errors.As(err, &le) || le.Line != tc.wantLine || !errors.Is(err, ErrLimit)):
				t.Errorf("err = %v, want line %d over the limit", err, tc.wantLine)
			}
		})
	}
}

// TestCSVOpenQuoteBounded is the end-to-end case of a quote that never
// closes: a real Eurostat SDMX-CSV file and a real UNHCR export, each with
// a quote opened on one line and then hundreds of megabytes of their own
// rows (tens with -short), gzipped, are loaded in a child process with the
// default limits. Each must fail at the record's first line with the
// record limit, and the child's peak RSS must stay under 512 MB (a record
// grown to the end of the file took 3.7 times the expanded size).
func TestCSVOpenQuoteBounded(t *testing.T) {
	expanded := int64(300 << 20)
	if testing.Short() {
		expanded = 40 << 20
	}
	dir := t.TempDir()
	// build writes head, then the rows of body again and again, then
	// gzips it all to name.
	build := func(name string, head, body []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
		bw := bufio.NewWriterSize(zw, 1<<20)
		bw.Write(head)
		for n := int64(len(head)); n < expanded; n += int64(len(body)) {
			bw.Write(body)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// rowsWithoutQuotes keeps the data lines of real that hold no quote,
	// so that nothing closes the opened one.
	rowsWithoutQuotes := func(real []byte) []byte {
		var b bytes.Buffer
		for _, l := range bytes.SplitAfter(real[bytes.IndexByte(real, '\n')+1:], []byte("\n")) {
			if !bytes.Contains(l, []byte(`"`)) {
				b.Write(l)
			}
		}
		return b.Bytes()
	}
	sdmx := unhcrReadFixture(t, esSDMXDec)
	unhcr := unhcrReadFixture(t, unhcrApplicationsCSV)
	for _, tc := range []struct {
		name, kind, path string
		line             int
	}{
		{"eurostat sdmx csv", "eurostat", build("migr_asydcfsta_open_quote.csv.gz", openQuoteAt(t, sdmx, 3, "2016,0,"), rowsWithoutQuotes(sdmx)), 3},
		{"unhcr export", "unhcr", build("rdf_asylum-applications_open_quote.csv.gz", openQuoteAt(t, unhcr, 4, "58"), rowsWithoutQuotes(unhcr)), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fi, _ := os.Stat(tc.path)
			msg, rss := hostileChild(t, tc.kind, tc.path)
			for _, w := range []string{tc.path, fmt.Sprintf("line %d:", tc.line), "limits.max_record_bytes"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			t.Logf("%s: %d MB gzipped, %d MB expanded: peak RSS %d MB: %s", tc.name, fi.Size()>>20, expanded>>20, rss>>10, msg)
			if rss > 512<<10 {
				t.Errorf("peak RSS %d MB, want under 512 MB", rss>>10)
			}
		})
	}
}

// FuzzRecordLimitReader checks the record bound against encoding/csv on
// any input that encoding/csv reads without error: with a limit as large
// as the input the text passes unchanged, and a record reported over the
// limit is one that encoding/csv starts on that line and that holds more
// bytes than the limit.
func FuzzRecordLimitReader(f *testing.F) {
	for _, p := range []string{unhcrApplicationsCSV, esSDMXDec, esAppssoDec, ruMFACSV, "testdata/claims/claims.csv"} {
		f.Add(unhcrHead(f, p, 6), 40)
	}
	f.Add([]byte("a,\"b\nc\"\"d\",e\r\n\r\n\"x\"\n"), 3)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 {
			return
		}
		// Each record's first line and its bytes, newline and the
		// empty lines before it included, as encoding/csv reads them.
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		span := map[int64]int64{}
		for prev := int64(0); ; {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // encoding/csv refuses it: the bound has nothing to agree with
			}
			line, _ := cr.FieldPos(0)
			span[int64(line)] = cr.InputOffset() - prev
			prev = cr.InputOffset()
		}
		var out bytes.Buffer
		_, err := io.Copy(&out, newRecordLimitReader(bytes.NewReader(data), "f.csv", 1, Limits{MaxRecordBytes: int64(len(data)) + 1}))
		if err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("limit above the input: err %v, passed %q of %q", err, out.Bytes(), data)
		}
		_, err = io.Copy(io.Discard, newRecordLimitReader(bytes.NewReader(data), "f.csv", 1, Limits{MaxRecordBytes: int64(max)}))
		var le *LocatedError
		if err != nil && (!errors.As(err, &le) || span[le.Line] <= int64(max)) {
			t.Fatalf("err %v: encoding/csv has no record over %d bytes there (records by first line: %v)", err, max, span)
		}
	})
}
