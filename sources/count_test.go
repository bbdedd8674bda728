package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// countSource is one reader of counts, with the real text around one of
// its counts in its real file (V where the count is) and where an error
// about it must point.
type countSource struct {
	name   string
	file   string // base name of the edited copy
	data   func() []byte
	old    string // the real text, with V where the count is
	orig   string // the count as published
	line   int64
	column string
	json   bool // V is a JSON value: a text that is not a bare JSON number is written as a JSON string
	load   func(ctx context.Context, path string) error
}

// countSources returns every reader of counts, for the tests that edit a
// count of each real file.
func countSources(t *testing.T) []countSource {
	head := func(path string, lines int) []byte {
		b := unhcrReadFixture(t, path)
		var out []byte
		for i := 0; i < lines && len(b) > 0; i++ {
			j := bytes.IndexByte(b, '\n')
			out, b = append(out, b[:j+1]...), b[j+1:]
		}
		return out
	}
	eurostat := func(ctx context.Context, p string) error {
		_, err := NewEurostat(EurostatConfig{Paths: []string{p}, CodeLists: esCodeLists}).Load(ctx, openTestDB(t))
		return err
	}
	unhcr := func(ctx context.Context, p string) error {
		_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(ctx, openTestDB(t))
		return err
	}
	return []countSource{
		{name: "eurostat tsv", file: "migr_asyappctzm_fixture_api.tsv",
			data: func() []byte {
				return unhcrReadFixture(t, filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"))
			},
			old: "M,PER,AF,T,TOTAL,FRST,DE\tV p\t", orig: "5", line: 2, column: "2", load: eurostat},
		{name: "eurostat sdmx csv", file: filepath.Base(esSDMXDec),
			data: func() []byte { return head(esSDMXDec, 20) },
			old:  "TOTAL,REJECTED,FR,2015,V,\n", orig: "0", line: 2, column: "11", load: eurostat},
		{name: "eurostat appsso csv", file: filepath.Base(esAppssoApps),
			data: func() []byte { return head(esAppssoApps, 20) },
			old:  `"Belgium","Total","Total","First time applicant","Person","V","d"`, orig: "0", line: 2, column: "8", load: eurostat},
		{name: "unhcr csv", file: "rdf_asylum-applications.csv",
			data: func() []byte { return unhcrReadFixture(t, unhcrApplicationsCSV) },
			old:  "ALB,BEL,G,N,RA,P,V\n", orig: "58", line: 4, column: "applied", load: unhcr},
		{name: "unhcr refugees package", file: filepath.Base(unhcrPkgDecisions),
			data: func() []byte { return head(unhcrPkgDecisions, 30) },
			old:  `"AUS","G","AR","C",V,0,25,0,63`, orig: "38", line: 2, column: "dec_recognized", load: unhcr},
		{name: "unhcr api page", file: "page.json",
			data: func() []byte { return unhcrReadFixture(t, unhcrDecisionsPage) },
			old:  `"dec_rejected":V,`, orig: "48", line: 3, column: "dec_rejected", json: true, load: unhcr},
		{name: "ru mfa", file: "ru_mfa.csv",
			data: func() []byte { return unhcrReadFixture(t, ruMFACSV) },
			old:  ",2022,V,visas,", orig: "512000", line: 2, column: "value",
			load: func(ctx context.Context, p string) error {
				_, err := NewRUMFA(RUMFAConfig{Path: p}).Load(ctx, openTestDB(t))
				return err
			}},
	}
}

// loadWithCount writes src's real file with its count replaced by v and
// loads it; the error must be a *LocatedError at the count's line and
// column, naming the file.
func loadWithCount(t *testing.T, src countSource, v string) error {
	t.Helper()
	real := src.data()
	from := strings.Replace(src.old, "V", src.orig, 1)
	if !bytes.Contains(real, []byte(from)) {
		t.Fatalf("fixture lacks %q", from)
	}
	if src.json && (!json.Valid([]byte(v)) || strings.TrimSpace(v) != v) {
		v = strconv.Quote(v)
	}
	p := unhcrWriteTemp(t, src.file, bytes.Replace(real, []byte(from), []byte(strings.Replace(src.old, "V", v, 1)), 1))
	err := src.load(context.Background(), p)
	if err == nil {
		t.Fatalf("%q loaded, want an error", v)
	}
	var le *LocatedError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v (%T), want a located error", err, err)
	}
	if le.Line != src.line || le.Column != src.column || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v at line %d column %s, want %s line %d column %s", err, le.Line, le.Column, p, src.line, src.column)
	}
	return err
}

// TestImplausibleCounts edits one count of each source's real file into a
// value no count can have (1 followed by 308 zeros, 5.5, -3, and -0 and
// -0.0, which a database keeps apart from 0) and checks that the load
// stops with ErrImplausibleCount naming the file, the line and the column,
// for every reader of counts.
func TestImplausibleCounts(t *testing.T) {
	for _, src := range countSources(t) {
		for _, v := range []string{"1" + strings.Repeat("0", 308), "5.5", "-3", "-0", "-0.0"} {
			t.Run(src.name+"/"+v[:min(len(v), 6)], func(t *testing.T) {
				if err := loadWithCount(t, src, v); !errors.Is(err, ErrImplausibleCount) {
					t.Errorf("err = %v, want ErrImplausibleCount", err)
				}
			})
		}
	}
}

// TestCountSyntax edits one count of each source's real file into a form
// that Go's number parsers take but no publisher writes (underscores, a
// plus sign, an exponent, hexadecimal, a space before the digits, a
// trailing or leading decimal point): each is refused where it stands,
// never read as 17.
func TestCountSyntax(t *testing.T) {
	for _, src := range countSources(t) {
		for _, v := range []string{"1_7", "+17", "1.7e1", "1.7E1", "0x11", "0x1p4", " 17", "17.", ".5", "Inf"} {
			t.Run(src.name+"/"+v, func(t *testing.T) {
				if err := loadWithCount(t, src, v); errors.Is(err, ErrImplausibleCount) {
					t.Errorf("err = %v, want a syntax error", err)
				}
			})
		}
	}
}

// yearSource is one reader of years, with the real text around a year of
// its real file (Y where the year is).
type yearSource struct {
	name, file string
	data       func() []byte
	old, orig  string
	line       int64
	column     string
	json       bool
	load       func(ctx context.Context, path string) error
}

// TestImplausibleYears edits one year of each source's real file into a
// year before 1950, one after next year and one with a sign: each is
// refused where it stands (ErrImplausibleYear for the first two).
func TestImplausibleYears(t *testing.T) {
	eurostat := func(ctx context.Context, p string) error {
		_, err := NewEurostat(EurostatConfig{Paths: []string{p}, CodeLists: esCodeLists}).Load(ctx, openTestDB(t))
		return err
	}
	unhcr := func(ctx context.Context, p string) error {
		_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(ctx, openTestDB(t))
		return err
	}
	fixture := func(p string) func() []byte { return func() []byte { return unhcrReadFixture(t, p) } }
	sources := []yearSource{
		{"eurostat tsv period", "migr_asyappctzm_fixture_api.tsv", fixture(filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv")),
			"\\TIME_PERIOD\tY-10 \t", "2021", 1, "2", false, eurostat},
		{"eurostat sdmx csv", filepath.Base(esSDMXDec), func() []byte { return unhcrHead(t, esSDMXDec, 20) },
			"TOTAL,REJECTED,FR,Y,0,\n", "2015", 2, "10", false, eurostat},
		{"eurostat appsso csv", filepath.Base(esAppssoApps), func() []byte { return unhcrHead(t, esAppssoApps, 20) },
			`"Y","European Union (28 countries)","Belgium"`, "2012", 2, "1", false, eurostat},
		{"unhcr csv", "rdf_asylum-applications.csv", fixture(unhcrApplicationsCSV),
			"Y,Albania,Belgium,ALB,BEL,G,N,RA,P,58\n", "2010", 4, "Year", false, unhcr},
		{"unhcr refugees package", filepath.Base(unhcrPkgDecisions), func() []byte { return unhcrHead(t, unhcrPkgDecisions, 30) },
			"Y,\"Afghanistan\",\"AFG\",\"AFG\",\"Australia\"", "2000", 2, "year", false, unhcr},
		{"unhcr api page", "page.json", fixture(unhcrDecisionsPage),
			`"items":[{"year":Y,`, "2000", 1, "year", true, unhcr},
		{"unhcr footnotes", "rdf_footnotes.csv", fixture(unhcrFootnotesCSV),
			"\",Y,IRQ,JOR,REF\n", "2023", 2, "Year", false, unhcr},
		{"ru mfa", "ru_mfa.csv", fixture(ruMFACSV), ",WORLD,Y,512000,", "2022", 2, "year",
			false, func(ctx context.Context, p string) error {
				_, err := NewRUMFA(RUMFAConfig{Path: p}).Load(ctx, openTestDB(t))
				return err
			}},
	}
	for _, src := range sources {
		for _, v := range []string{"1949", "2999", "+2022"} {
			t.Run(src.name+"/"+v, func(t *testing.T) {
				real := src.data()
				from := strings.Replace(src.old, "Y", src.orig, 1)
				if !bytes.Contains(real, []byte(from)) {
					t.Fatalf("fixture lacks %q", from)
				}
				to := v
				if src.json && (!json.Valid([]byte(v)) || strings.TrimSpace(v) != v) {
					to = strconv.Quote(v)
				}
				p := unhcrWriteTemp(t, src.file, bytes.Replace(real, []byte(from), []byte(strings.Replace(src.old, "Y", to, 1)), 1))
				err := src.load(context.Background(), p)
				var le *LocatedError
				if !errors.As(err, &le) {
					t.Fatalf("err = %v (%T), want a located error", err, err)
				}
				if le.Line != src.line || le.Column != src.column || !strings.Contains(err.Error(), p) {
					t.Errorf("err = %v at line %d column %s, want %s line %d column %s", err, le.Line, le.Column, p, src.line, src.column)
				}
				if v[0] != '+' && !errors.Is(err, ErrImplausibleYear) {
					t.Errorf("err = %v, want ErrImplausibleYear", err)
				}
			})
		}
	}
}
