package pipeline

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// TestRunUpstreamIssue runs the pipeline on the real 2023 workbook with its
// column M footer narrowed the way the 2024 file has it (=SUM(M277:...),
// cached value the narrowed sum): the release publishes the data rows'
// totals, and the issue reaches upstream_issues.parquet and .csv, run.json
// and the workbook's About sheet.
func TestRunUpstreamIssue(t *testing.T) {
	t.Parallel()
	layouts, err := sources.ReadECLayouts(ectest.ReferenceDir(t))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := sources.ReadECWorkbook(ectest.File(t, "2023"), layouts)
	if err != nil {
		t.Fatal(err)
	}
	orig := wb.Data()
	ltv := slices.Index(sources.ECIndicators(), "ltv_issued")
	last := orig.Rows[len(orig.Rows)-1].Row
	var all, printed int64
	for _, r := range orig.Rows {
		all += r.Counts[ltv]
		if r.Row >= 277 {
			printed += r.Counts[ltv]
		}
	}
	cell := fmt.Sprintf("M%d", orig.Total.Row)
	formula := fmt.Sprintf("SUM(M277:M%d)", last)
	path := ectest.EditAs(t, "2023", filepath.Join(t.TempDir(), "2023-narrowed-footer.xlsx"), func(f *excelize.File) error {
		if err := f.SetCellValue(sources.ECSchengenSheet, cell, printed); err != nil {
			return err
		}
		return f.SetCellFormula(sources.ECSchengenSheet, cell, formula)
	})
	cfg := tinyConfig(t, sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: path, Year: 2023}}})
	rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if !c.Passed() && c.Blocking {
			t.Errorf("check %s: %v", c.Name, c.Sample)
		}
	}
	latest := filepath.Join(cfg.Output.Dir, "latest")
	db := openDuck(t)

	// The marts carry the data rows' LTVs, not the printed total.
	var ltvs int64
	if err := db.QueryRow(`SELECT sum(ltv_issued) FROM read_parquet(?) WHERE year = 2023`,
		filepath.Join(latest, "schengen_host_country_year.parquet")).Scan(&ltvs); err != nil {
		t.Fatal(err)
	}
	if ltvs != all || all != 102785 {
		t.Errorf("2023 LTVs issued in the mart = %d, data rows %d, want 102785", ltvs, all)
	}

	var n int
	var file, gotCell, gotFormula, handling, status string
	var gotPrinted, gotData int64
	if err := db.QueryRow(`SELECT count(*) OVER (), file, cell, printed_formula, printed_total, data_rows_total, handling, cross_check_status
		FROM read_parquet(?)`, filepath.Join(latest, "upstream_issues.parquet")).Scan(&n, &file, &gotCell, &gotFormula, &gotPrinted, &gotData, &handling, &status); err != nil {
		t.Fatal(err)
	}
	if n != 1 || file != "2023-narrowed-footer.xlsx" || gotCell != cell || gotFormula != "="+formula || gotPrinted != printed || gotData != all ||
		handling != sources.HandlingLoadedDataRows || status != sources.CrossCheckConfirmed {
		t.Errorf("upstream_issues.parquet: %d rows, %s %s %s printed %d data %d %s %s", n, file, gotCell, gotFormula, gotPrinted, gotData, handling, status)
	}

	f, err := os.Open(filepath.Join(latest, "upstream_issues.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !slices.Contains(recs[1], cell) || !slices.Contains(recs[1], fmt.Sprint(printed)) || !slices.Contains(recs[1], fmt.Sprint(all)) {
		t.Errorf("upstream_issues.csv = %v", recs)
	}

	var report struct {
		Issues []release.UpstreamIssue `json:"upstream_issues"`
	}
	b, err := os.ReadFile(filepath.Join(latest, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Issues) != 1 || report.Issues[0].Cell != cell || report.Issues[0].PrintedTotal != printed ||
		!strings.Contains(report.Issues[0].Explanation, "(rows 2-276: ALBANIA/TIRANA") ||
		!strings.Contains(report.Issues[0].Explanation, fmt.Sprintf("that hold %d", all-printed)) ||
		report.Issues[0].DataRowsTotal == nil || *report.Issues[0].DataRowsTotal != all || report.Issues[0].Kind != sources.IssueFooterTotal {
		t.Errorf("run.json upstream_issues = %+v", report.Issues)
	}

	about := dumpWorkbook(t, filepath.Join(latest, WorkbookName), func(sheet string, _ []string) bool { return sheet == "About" })
	about = about[:strings.Index(about, "== sheet Headlines")]
	for _, w := range []string{"Upstream issues", "2023-narrowed-footer.xlsx", "cell " + cell, "=" + formula,
		"Data rows: 102,785", sources.HandlingLoadedDataRows} {
		if !strings.Contains(about, w) {
			t.Errorf("About sheet lacks %q", w)
		}
	}
	if strings.Contains(about, "None found") {
		t.Error("About sheet says none found")
	}
}
