package snapshot

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestCheckContent(t *testing.T) {
	xlsx := readFixture(t, xlsxFixture, xlsxSHA256)
	jsonBody := readFixture(t, jsonFixture, jsonSHA256)
	cases := []struct {
		name    string
		kind    Kind
		body    []byte
		wantGot string // "" when the body passes
	}{
		{"real workbook", KindXLSX, xlsx, ""},
		{"real JSON", KindJSON, jsonBody, ""},
		{"JSON after whitespace and a BOM", KindJSON, []byte("\xef\xbb\xbf \n[1, 2]"), ""},
		{"JSON cut short", KindJSON, jsonBody[:len(jsonBody)/2], "malformed JSON"},
		{"JSON as text", KindJSON, []byte("year,value\n"), "text"},
		{"UTF-8 CSV", KindCSV, []byte("country,value\nCôte d'Ivoire,12\n"), ""},
		{"Windows-1252 CSV", KindCSV, []byte("country;value\nC\xf4te d'Ivoire;12\n"), ""},
		{"TSV", KindTSV, []byte("freq,unit\\time\t2023 \nA,PER\t1 205 \n"), ""},
		{"HTML instead of CSV", KindCSV, []byte("\n  <HTML><body>Maintenance</body></html>"), "an HTML page"},
		{"doctype instead of TSV", KindTSV, []byte("<!doctype html><title>x</title>"), "an HTML page"},
		{"gzip instead of TSV", KindTSV, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, "gzip data"},
		{"workbook instead of CSV", KindCSV, xlsx, "a zip archive"},
		{"binary instead of CSV", KindCSV, []byte("a,b\n\x00\x01\x02"), "binary data"},
		{"control character late in CSV", KindCSV, append(bytes.Repeat([]byte("a,b\n"), 1000), 0x1b), "binary data"},
		{"JSON error document instead of CSV", KindCSV, []byte(`{"error": "rate limited"}`), "JSON"},
		{"empty body", KindCSV, nil, "an empty body"},
		{"JSON instead of xlsx", KindXLSX, jsonBody, "JSON"},
	}
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, string(rune('a'+i)))
			if err := os.WriteFile(p, tc.body, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			err = checkContent(f, int64(len(tc.body)), tc.kind, "https://example.org/file", 1<<30)
			if tc.wantGot == "" {
				if err != nil {
					t.Errorf("checkContent = %v, want success", err)
				}
				return
			}
			var cerr *ContentError
			if !errors.As(err, &cerr) || cerr.Got != tc.wantGot || cerr.Expected != tc.kind {
				t.Errorf("checkContent = %v, want a ContentError saying it got %s", err, tc.wantGot)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"xlsx", "csv", "tsv", "gzip", "json"} {
		if k, err := ParseKind(s); err != nil || string(k) != s {
			t.Errorf("ParseKind(%q) = %q, %v", s, k, err)
		}
	}
	if _, err := ParseKind("XLSX"); err == nil {
		t.Error("ParseKind accepted XLSX; kinds are lower case")
	}
}

// TestCheckContentExpandedLimit: the fetch limit holds for what a body
// expands to: a gzip stream or a workbook that unzips to more than the
// limit is refused with ErrTooLarge, one within it passes.
func TestCheckContentExpandedLimit(t *testing.T) {
	xlsx := readFixture(t, xlsxFixture, xlsxSHA256)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("A,PER,AF,T,TOTAL,FRST,DE\t5 \n"), 1<<15)) // about 900 kB
	zw.Close()
	dir := t.TempDir()
	for i, tc := range []struct {
		name  string
		kind  Kind
		body  []byte
		limit int64
		large bool
	}{
		{"gzip within the limit", KindGzip, gz.Bytes(), 1 << 20, false},
		{"gzip over the limit", KindGzip, gz.Bytes(), 64 << 10, true},
		{"workbook within the limit", KindXLSX, xlsx, 64 << 20, false},
		{"workbook over the limit", KindXLSX, xlsx, int64(len(xlsx)), true},
	} {
		p := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(p, tc.body, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		err = checkContent(f, int64(len(tc.body)), tc.kind, "https://example.org/file", tc.limit)
		f.Close()
		if tc.large != errors.Is(err, ErrTooLarge) || !tc.large && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
