package sources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/sources/ectest"
)

// newerECWorkbook copies the shipped 2024 workbook with one consulate's
// count changed, as the Commission's current file of 2024 would be after
// a correction: Austria's consulate in Abuja (Nigeria), row 38, uniform
// visas applied for (column I) 1,942 -> 2,042, and the footer total of the
// column by the same 100, so that the workbook still reconciles.
func newerECWorkbook(t *testing.T, path string) string {
	t.Helper()
	return ectest.EditAs(t, "2024", path, func(f *excelize.File) error {
		for cell, want := range map[string]string{"A38": "Austria", "B38": "NIGERIA", "C38": "ABUJA", "I38": "1942", "C2042": "Total worldwide 2024"} {
			got, err := f.GetCellValue(ECSchengenSheet, cell, excelize.Options{RawCellValue: true})
			if err != nil {
				return err
			}
			if strings.TrimSpace(got) != want {
				return fmt.Errorf("%s is %q, want %q", cell, got, want)
			}
		}
		total, err := f.GetCellValue(ECSchengenSheet, "I2042", excelize.Options{RawCellValue: true})
		if err != nil {
			return err
		}
		var sum int64
		if _, err := fmt.Sscan(total, &sum); err != nil {
			return fmt.Errorf("I2042 %q: %w", total, err)
		}
		if err := f.SetCellValue(ECSchengenSheet, "I38", 2042); err != nil {
			return err
		}
		return f.SetCellValue(ECSchengenSheet, "I2042", sum+100)
	})
}

// TestECSchengenUpstreamSupersedes: a workbook fetched from the Commission
// for a year replaces the local workbook of that year, however the local
// one got its year (its name in path, or a files: entry), and the
// replaced file is reported; the rows of that year come from the
// Commission's file.
func TestECSchengenUpstreamSupersedes(t *testing.T) {
	ctx := context.Background()
	local2024, local2023 := ectest.File(t, "2024"), ectest.File(t, "2023")
	upstream := newerECWorkbook(t, filepath.Join(t.TempDir(), "ec-visa-statistics-consulates-2024.xlsx"))
	dir := t.TempDir() // a local folder of workbooks, years in their names
	for _, p := range []string{local2023, local2024} {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	up := ECSchengenFile{Path: upstream, Year: 2024, Upstream: true}
	for _, tc := range []struct {
		name  string
		cfg   ECSchengenConfig
		local string // the 2024 workbook superseded
	}{
		{"local workbook in path", ECSchengenConfig{Path: dir, Files: []ECSchengenFile{up}}, filepath.Join(dir, filepath.Base(local2024))},
		{"local workbook in files", ECSchengenConfig{Files: []ECSchengenFile{{Path: local2023, Year: 2023}, {Path: local2024, Year: 2024}, up}}, local2024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Layouts = esCodeLists
			src := NewECSchengen(tc.cfg, UpstreamIssuesConfig{Path: "../data/curated/upstream_issues.csv"})
			sup, err := src.Superseded(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := []ECSuperseded{{Year: 2024, Local: tc.local, Upstream: upstream}}; !reflect.DeepEqual(sup, want) {
				t.Errorf("superseded = %+v, want %+v", sup, want)
			}
			books, err := src.workbooks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(books) != 2 || books[0].Year != 2023 || books[1].Year != 2024 || books[1].Path != upstream {
				t.Errorf("workbooks = %+v, want 2023's local and 2024's upstream", books)
			}
			conn := openTestDB(t)
			if _, err := src.Load(ctx, conn); err != nil {
				t.Fatal(err)
			}
			var applied, fromLocal int64
			var file string
			if err := conn.QueryRowContext(ctx, `SELECT uniform_applied, file FROM raw_ec_schengen_consulates
				WHERE year = 2024 AND schengen_state = 'Austria' AND host_country = 'NIGERIA' AND consulate = 'ABUJA'`).Scan(&applied, &file); err != nil {
				t.Fatal(err)
			}
			if applied != 2042 || file != upstream {
				t.Errorf("Austria in Abuja 2024: %d applications from %s, want 2,042 from the Commission's file %s", applied, file, upstream)
			}
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM raw_ec_schengen_consulates WHERE file = ?`, tc.local).Scan(&fromLocal); err != nil {
				t.Fatal(err)
			}
			if fromLocal != 0 {
				t.Errorf("%d rows from the superseded %s", fromLocal, tc.local)
			}
		})
	}

	t.Run("no upstream workbook", func(t *testing.T) {
		sup, err := NewECSchengen(ECSchengenConfig{Path: dir}, UpstreamIssuesConfig{}).Superseded(ctx)
		if err != nil || len(sup) != 0 {
			t.Errorf("superseded = %+v, %v; want none", sup, err)
		}
	})
	t.Run("two upstream workbooks of one year", func(t *testing.T) {
		_, err := NewECSchengen(ECSchengenConfig{Files: []ECSchengenFile{up, {Path: local2024, Year: 2024, Upstream: true}}}, UpstreamIssuesConfig{}).Inputs(ctx)
		if err == nil || !strings.Contains(err.Error(), "two workbooks of 2024 from the Commission") {
			t.Errorf("err = %v, want two workbooks of 2024 refused", err)
		}
	})
}
