package pipeline

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// TestHostileInputsStopTheRun runs the pipeline with one hostile or
// implausible input at a time, built from a real shipped file: a workbook
// whose data sheet unzips past the default limits.max_workbook_bytes, a
// Eurostat gzip TSV with a line past limits.max_line_bytes, Eurostat
// counts of 1e308 and 5.5, and a negative UNHCR count. Each run fails with
// an error naming the file, publishes nothing, and leaves a failed-run
// record. (sources' TestHostileInputs loads bombs of hundreds of megabytes
// and bounds the memory it takes to refuse them.)
func TestHostileInputsStopTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds files of hundreds of megabytes")
	}
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	replace := func(b []byte, old, new string) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("fixture lacks %q", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	fill := bytes.Repeat([]byte{'5'}, 1<<20)
	limits := sources.DefaultLimits()

	// The 2023 workbook with a cell larger than the default
	// limits.max_workbook_bytes appended to its data sheet.
	bomb := filepath.Join(dir, "bomb", "sheet-bomb-2023.xlsx")
	{
		os.MkdirAll(filepath.Dir(bomb), 0o755)
		zr, err := zip.OpenReader(ectest.File(t, "2023"))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		for _, f := range zr.File {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if f.Name != "xl/worksheets/sheet2.xml" {
				w.Write(b)
				continue
			}
			i := bytes.LastIndex(b, []byte("</sheetData>"))
			w.Write(b[:i])
			io.WriteString(w, `<row r="1048000"><c r="B1048000" t="inlineStr"><is><t>`)
			for n := int64(0); n <= limits.MaxWorkbookBytes>>20; n++ {
				w.Write(fill)
			}
			io.WriteString(w, `</t></is></c></row>`)
			w.Write(b[i:])
		}
		zw.Close()
		zr.Close()
		write("bomb/sheet-bomb-2023.xlsx", out.Bytes())
	}
	var gz bytes.Buffer
	{
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		io.WriteString(zw, "freq,unit,citizen,sex,age,applicant,geo\\TIME_PERIOD\t2021-10 \nM,PER,AF,T,TOTAL,FRST,DE\t")
		for n := int64(0); n <= limits.MaxLineBytes>>20; n++ {
			zw.Write(fill)
		}
		zw.Close()
	}
	lineBomb := write("linebomb/migr_asyappctzm_line_bomb.tsv.gz", gz.Bytes())
	sdmx := read("../data/eurostat/migr_asydcfsta_sdmx-csv_FR_2015-2019.csv")
	huge := write("huge/migr_asydcfsta_sdmx-csv_FR_2015-2019.csv", replace(sdmx, "TOTAL,REJECTED,FR,2015,0,", "TOTAL,REJECTED,FR,2015,1"+strings.Repeat("0", 308)+","))
	frac := write("frac/migr_asydcfsta_sdmx-csv_FR_2015-2019.csv", replace(sdmx, "TOTAL,REJECTED,FR,2015,0,", "TOTAL,REJECTED,FR,2015,5.5,"))
	unhcr := read("../data/unhcr/rdf_asylum-applications_europe-origins_2010-2023.csv")
	negative := write("negative/rdf_asylum-applications_europe-origins_2010-2023.csv", replace(unhcr, "ALB,BEL,G,N,RA,P,58\n", "ALB,BEL,G,N,RA,P,-3\n"))

	for _, tc := range []struct {
		name string
		set  func(*Config)
		file string
		want string
	}{
		{"workbook zip bomb", func(c *Config) {
			c.Sources.ECSchengen = sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: bomb, Year: 2023}}}
		}, bomb, "limits.max_workbook_bytes"},
		{"gzip line bomb", func(c *Config) { c.Sources.Eurostat.Paths = []string{lineBomb} }, lineBomb, "limits.max_line_bytes"},
		{"eurostat 1e308", func(c *Config) { c.Sources.Eurostat.Paths = []string{huge} }, huge, "expected a count"},
		{"eurostat 5.5", func(c *Config) { c.Sources.Eurostat.Paths = []string{frac} }, frac, "expected a count"},
		{"unhcr negative", func(c *Config) { c.Sources.UNHCR.Paths = []string{negative} }, negative, "expected a count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(t, ec2023(t))
			tc.set(&cfg)
			rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{})
			if err == nil {
				t.Fatalf("run published %s", rep.Release)
			}
			if !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s and say %q", err, tc.file, tc.want)
			}
			if tc.want == "expected a count" && !errors.Is(err, sources.ErrImplausibleCount) {
				t.Errorf("error %v is not ErrImplausibleCount", err)
			}
			if _, err := os.Lstat(filepath.Join(cfg.Output.Dir, "latest")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("latest exists after a failed run")
			}
			if _, err := os.Stat(cfg.Database); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a database was published")
			}
			if _, err := os.Stat(filepath.Join(cfg.Output.Dir, "runs", rep.Release+"-failed.json")); err != nil {
				t.Errorf("no failed-run record: %v", err)
			}
		})
	}
}
