package pipeline

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// TestAboutSheetManyInputs: the About sheet lists a source's inputs by
// name up to aboutFilesListed; beyond, it says how many there are, shows
// the first aboutFilesShown and points to run.json for the rest.
func TestAboutSheetManyInputs(t *testing.T) {
	rep := &Report{}
	rep.Release = "20240601T120000Z"
	sum := strings.Repeat("0123456789abcdef", 4)
	for i := range 2 {
		rep.Inputs = append(rep.Inputs, release.Input{Source: "ec_schengen_consulates", Path: fmt.Sprintf("data/ec/%d.xlsx", 2022+i), SHA256: sum})
	}
	for i := range 30 {
		rep.Inputs = append(rep.Inputs, release.Input{Source: "unhcr", Path: fmt.Sprintf("data/unhcr/export_%02d.csv", i+1), SHA256: sum})
	}
	files := map[string]string{}
	for _, s := range aboutSheet(rep, workbookSpec{file: WorkbookName, title: "t"}, "Headlines").Sources {
		files[s.Name] = s.Files
	}
	if want := "2022.xlsx (sha256 0123456789ab)\n2023.xlsx (sha256 0123456789ab)"; files["ec_schengen_consulates"] != want {
		t.Errorf("EC files %q, want %q", files["ec_schengen_consulates"], want)
	}
	want := []string{"30 inputs, the first 10:"}
	for i := range 10 {
		want = append(want, fmt.Sprintf("export_%02d.csv (sha256 0123456789ab)", i+1))
	}
	want = append(want, "and 20 more: run.json, beside this workbook, lists every input with its size and SHA-256.")
	if got := files["unhcr"]; got != strings.Join(want, "\n") {
		t.Errorf("UNHCR files\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// TestRunThirtyUNHCRInputs runs on the shipped mid-year UNHCR export cut
// by origin into thirty exports and on the 2023 EC workbook saved under a
// name that is a spreadsheet formula. Before, the About sheet gave the
// thirty files one cell 465 points high, over Excel's 409, and excelize
// refused the workbook after the whole build: every run failed. Now
// the run publishes a workbook that excelize and openpyxl open, with the
// figures the one export gives; and the file name reaches headlines.csv
// as text, not as a formula.
func TestRunThirtyUNHCRInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unhcrDir := filepath.Join(dir, "unhcr")
	parts := splitByOrigin(t, midYearExport, unhcrDir, 30)
	releases := filepath.Join(dir, "unhcr_releases.csv")
	writeReleasesFor(t, releases, midYearExport, parts)

	b, err := os.ReadFile(ectest.File(t, "2023"))
	if err != nil {
		t.Fatal(err)
	}
	const hostileName = `=HYPERLINK("evil.example","2023").xlsx`
	ec := filepath.Join(dir, hostileName)
	if err := os.WriteFile(ec, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t, sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ec, Year: 2023}}})
	cfg.Sources.UNHCR = sources.UNHCRConfig{Paths: []string{unhcrDir}, Releases: releases}
	rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	latest := filepath.Join(cfg.Output.Dir, "latest")
	n := 0
	for _, in := range rep.Inputs {
		if in.Source == "unhcr" && filepath.Dir(in.Path) == unhcrDir {
			n++
		}
	}
	if n != 30 {
		t.Fatalf("%d UNHCR exports recorded, want 30", n)
	}

	t.Run("workbook", func(t *testing.T) {
		path := filepath.Join(latest, WorkbookName)
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, sheet := range []string{"About", "Headlines", "Definitions"} {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rows {
				if h, _ := f.GetRowHeight(sheet, i+1); h > excelize.MaxRowHeight {
					t.Errorf("sheet %s row %d is %.0f points high", sheet, i+1, h)
				}
			}
		}
		about, err := f.GetRows("About")
		if err != nil {
			t.Fatal(err)
		}
		var files string
		for _, r := range about {
			if len(r) == 4 && r[0] == "unhcr" {
				files = r[3]
			}
		}
		// The thirty exports and the releases file.
		if !strings.Contains(files, "\n31 inputs, the first 10:\n") || !strings.Contains(files, "and 21 more: run.json") {
			t.Errorf("About's UNHCR files:\n%s", files)
		}
		checkOpenpyxl(t, path, hostileName)
	})

	t.Run("figures", func(t *testing.T) {
		// The thirty parts hold the export's cells: origin Russia gives
		// the mid-year export's 14,899 persons for 2023 (January-June).
		r := headlineRow(t, latest, "7")
		if r["period_label"] != "2023 (Jan-Jun)" || r["value"] != "14899" {
			t.Errorf("UNHCR headline %v, want 2023 (Jan-Jun) 14899", r)
		}
	})

	t.Run("file name as text", func(t *testing.T) {
		if r := headlineRow(t, latest, "1"); r["source"] != "'"+hostileName {
			t.Errorf("headlines.csv rank 1 source %q, want %q", r["source"], "'"+hostileName)
		}
		// run.json keeps the name as it is.
		if !slices.ContainsFunc(rep.Inputs, func(in release.Input) bool { return filepath.Base(in.Path) == hostileName }) {
			t.Errorf("run.json does not record %s", hostileName)
		}
	})
}

// splitByOrigin writes the lines of the UNHCR export path into n exports
// under dir, each with the header, the origins dealt out in turn (so that
// each cell is in one part), and returns their paths.
func splitByOrigin(t *testing.T, path, dir string, n int) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	byOrigin := map[string]string{}
	for _, l := range lines[1:] {
		rec, err := csv.NewReader(strings.NewReader(l)).Read()
		if err != nil {
			t.Fatal(err)
		}
		byOrigin[rec[3]] += strings.TrimSuffix(l, "\n") + "\n"
	}
	origins := make([]string, 0, len(byOrigin))
	for o := range byOrigin {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	if len(origins) < n {
		t.Fatalf("%s has %d origins, fewer than %d parts", path, len(origins), n)
	}
	bodies := make([]string, n)
	for i, o := range origins {
		bodies[i%n] += byOrigin[o]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, body := range bodies {
		p := filepath.Join(dir, fmt.Sprintf("rdf_asylum-applications_part%02d.csv", i+1))
		if err := os.WriteFile(p, []byte(lines[0]+body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// writeReleasesFor writes to path the shipped UNHCR releases file with, for
// each of parts, a copy of shipped's line (its release, its coverage).
func writeReleasesFor(t *testing.T, path, shipped string, parts []string) {
	t.Helper()
	b, err := os.ReadFile("../data/curated/unhcr_releases.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, from, err := sources.FileDigest(shipped)
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(l, from+",") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("the shipped releases file has no line for %s", shipped)
	}
	body := string(b)
	for _, p := range parts {
		_, sum, err := sources.FileDigest(p)
		if err != nil {
			t.Fatal(err)
		}
		body += strings.Replace(strings.Replace(line, from, sum, 1), filepath.Base(shipped), filepath.Base(p), 1)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// headlineRow is the row of headlines.csv in the release folder dir whose
// rank is rank, by column name.
func headlineRow(t *testing.T, dir, rank string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "headlines.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if r[0] != rank {
			continue
		}
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		return m
	}
	t.Fatalf("headlines.csv has no rank %s", rank)
	return nil
}

// openpyxlFormulas opens a workbook in openpyxl and prints, per sheet, the
// cells holding a formula and those whose value is argv[2].
const openpyxlFormulas = `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
out = {}
for ws in wb.worksheets:
    out[ws.title] = {"formulas": [], "found": []}
    for row in ws.iter_rows():
        for c in row:
            if c.data_type == "f":
                out[ws.title]["formulas"].append(c.coordinate)
            if c.value == sys.argv[2]:
                out[ws.title]["found"].append(c.coordinate)
print(json.dumps(out))
`

// checkOpenpyxl opens the workbook at path in openpyxl when
// /usr/bin/python3 has it: no cell is a formula, and the text name is in a
// cell of Headlines, as a string.
func checkOpenpyxl(t *testing.T, path, name string) {
	t.Helper()
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3: openpyxl check skipped")
	}
	out, err := exec.Command(python, "-c", openpyxlFormulas, path, name).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "No module named 'openpyxl'") {
			t.Skip("python3-openpyxl not installed: openpyxl check skipped")
		}
		t.Fatalf("openpyxl: %v", err)
	}
	var got map[string]struct {
		Formulas []string
		Found    []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for sheet, s := range got {
		if len(s.Formulas) > 0 {
			t.Errorf("openpyxl reads formulas in sheet %s: %v", sheet, s.Formulas)
		}
	}
	if len(got["Headlines"].Found) == 0 {
		t.Errorf("openpyxl finds no cell %q on Headlines", name)
	}
}
