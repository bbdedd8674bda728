package sources

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestImplausibleCounts edits one count of each source's real file into a
// value no count can have (1 followed by 308 zeros, 5.5, -3) and checks
// that the load stops with ErrImplausibleCount naming the file, the line
// and the column, for every reader of counts.
func TestImplausibleCounts(t *testing.T) {
	head := func(path string, lines int) []byte {
		b := unhcrReadFixture(t, path)
		var out []byte
		for i := 0; i < lines && len(b) > 0; i++ {
			j := bytes.IndexByte(b, '\n')
			out, b = append(out, b[:j+1]...), b[j+1:]
		}
		return out
	}
	type source struct {
		name   string
		file   string // base name of the edited copy
		data   func() []byte
		old    string // the real text, with V where the count is
		orig   string // the count as published
		line   int64
		column string
		load   func(ctx context.Context, path string) error
	}
	eurostat := func(ctx context.Context, p string) error {
		_, err := NewEurostat(EurostatConfig{Paths: []string{p}, CodeLists: esCodeLists}).Load(ctx, openTestDB(t))
		return err
	}
	unhcr := func(ctx context.Context, p string) error {
		_, err := NewUNHCR(UNHCRConfig{Paths: []string{p}}).Load(ctx, openTestDB(t))
		return err
	}
	sourcesUnderTest := []source{
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
			old:  `"dec_rejected":V,`, orig: "48", line: 3, column: "dec_rejected", load: unhcr},
		{name: "ru mfa", file: "ru_mfa.csv",
			data: func() []byte { return unhcrReadFixture(t, ruMFACSV) },
			old:  ",2022,V,visas,", orig: "512000", line: 2, column: "value",
			load: func(ctx context.Context, p string) error {
				_, err := NewRUMFA(RUMFAConfig{Path: p}).Load(ctx, openTestDB(t))
				return err
			}},
	}
	for _, src := range sourcesUnderTest {
		for _, v := range []string{"1" + strings.Repeat("0", 308), "5.5", "-3"} {
			t.Run(src.name+"/"+v[:min(len(v), 6)], func(t *testing.T) {
				real := src.data()
				from := strings.Replace(src.old, "V", src.orig, 1)
				if !bytes.Contains(real, []byte(from)) {
					t.Fatalf("fixture lacks %q", from)
				}
				p := unhcrWriteTemp(t, src.file, bytes.Replace(real, []byte(from), []byte(strings.Replace(src.old, "V", v, 1)), 1))
				if err := src.load(context.Background(), p); err != nil && !errors.Is(err, ErrImplausibleCount) {
					t.Fatalf("err = %v, want ErrImplausibleCount", err)
				} else if err == nil {
					t.Fatalf("%s loaded, want ErrImplausibleCount", v)
				} else {
					var line int64
					var column string
					var le *LocatedError
					if !errors.As(err, &le) {
						t.Fatalf("err = %v (%T), want a located error", err, err)
					}
					line, column = le.Line, le.Column
					if line != src.line || column != src.column || !strings.Contains(err.Error(), p) {
						t.Errorf("err = %v at line %d column %s, want %s line %d column %s", err, line, column, p, src.line, src.column)
					}
				}
			})
		}
	}
}
