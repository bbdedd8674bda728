package sources

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/sources/ectest"
)

// ecFooterFixture describes the shipped 2023 workbook's footer, read from
// the file itself: the "Total worldwide" row, the data block and the data
// rows' sum of column M (LTVs issued).
type ecFooterFixture struct {
	sheet       *ECSheet
	totalRow    int
	first, last int
	ltv         int // index of ltv_issued in ECIndicators
}

func footerFixture(t *testing.T) ecFooterFixture {
	t.Helper()
	sh := shippedECSheet(t, ectest.File(t, "2023"))
	return ecFooterFixture{sheet: sh, totalRow: sh.Total.Row, first: sh.Rows[0].Row, last: sh.Rows[len(sh.Rows)-1].Row,
		ltv: slices.Index(ECIndicators(), "ltv_issued")}
}

// sumFrom is the data rows' sum of column M over rows from..to.
func (fx ecFooterFixture) sumFrom(from, to int) int64 {
	var n int64
	for _, r := range fx.sheet.Rows {
		if r.Row >= from && r.Row <= to {
			n += r.Counts[fx.ltv]
		}
	}
	return n
}

func (fx ecFooterFixture) cell() string { return fmt.Sprintf("M%d", fx.totalRow) }

// setFooter writes a cached value and a formula into the M footer cell, as
// a publisher's spreadsheet program leaves them. (Setting a value removes
// a formula in excelize, so the value goes first.)
func (fx ecFooterFixture) setFooter(value int64, formula string) func(f *excelize.File) error {
	return func(f *excelize.File) error {
		if err := f.SetCellValue(ECSchengenSheet, fx.cell(), value); err != nil {
			return err
		}
		if formula == "" {
			return nil
		}
		return f.SetCellFormula(ECSchengenSheet, fx.cell(), formula)
	}
}

// TestECSchengenFooterFormulaSlip narrows the real 2023 footer formula of
// column M the way the 2024 file has it (=SUM(M277:...)), with the cached
// value the narrowed range gives: the data rows load, the totals are the
// data rows' sums, and the issue says what the file says, what the data
// say and why they differ.
func TestECSchengenFooterFormulaSlip(t *testing.T) {
	fx := footerFixture(t)
	all := fx.sumFrom(fx.first, fx.last)
	if all != 102785 { // the published 2023 total of LTVs issued
		t.Fatalf("2023 column M sums to %d, want 102785", all)
	}
	tests := []struct {
		name     string
		formula  string
		from, to int
		left     string // the rows left out, as the explanation says
	}{
		{name: "starts late", formula: fmt.Sprintf("SUM(M277:M%d)", fx.last), from: 277, to: fx.last, left: fmt.Sprintf("rows %d-276", fx.first)},
		{name: "subtotal ends early", formula: "SUBTOTAL(9,$M$2:$M$1500)", from: 2, to: 1500, left: fmt.Sprintf("rows 1501-%d", fx.last)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			printed := fx.sumFrom(tt.from, tt.to)
			if printed == all {
				t.Fatalf("the range %d-%d holds all of column M; the fixture shows nothing", tt.from, tt.to)
			}
			path := ectest.Edit(t, "2023", fx.setFooter(printed, tt.formula))
			sh, err := readECSheet(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if sh.Total.Counts[fx.ltv] != all {
				t.Errorf("reconciled total of M = %d, want the data rows' %d", sh.Total.Counts[fx.ltv], all)
			}
			for i, ind := range ECIndicators() {
				if got := sumCol(sh, "", ind); got != sh.Total.Counts[i] {
					t.Errorf("%s: data rows %d, reconciled total %d", ind, got, sh.Total.Counts[i])
				}
			}
			if len(sh.Issues) != 1 {
				t.Fatalf("issues = %+v, want one", sh.Issues)
			}
			is := sh.Issues[0]
			if is.Cell != fx.cell() || is.Column != "M" || is.Indicator != "ltv_issued" || is.Sheet != ECSchengenSheet {
				t.Errorf("issue at %s/%s/%s/%s, want %s M ltv_issued", is.Sheet, is.Cell, is.Column, is.Indicator, fx.cell())
			}
			if is.Formula != "="+tt.formula || is.Printed != printed || is.DataRows != all {
				t.Errorf("issue formula %q printed %d data %d, want %q %d %d", is.Formula, is.Printed, is.DataRows, "="+tt.formula, printed, all)
			}
			for _, w := range []string{is.Formula, tt.left, fmt.Sprintf("hold %d", all-printed), fmt.Sprintf("sum to %d, the printed total", printed)} {
				if !strings.Contains(is.Explanation, w) {
					t.Errorf("explanation %q does not say %q", is.Explanation, w)
				}
			}
			if is.Handling != HandlingLoadedDataRows || is.Decision != "" {
				t.Errorf("handling %q decision %q", is.Handling, is.Decision)
			}
			// Q's footer (=SUM(Q2:Q<last>)) is untouched: E + J + M of
			// the data rows must match it.
			if is.CrossCheckStatus != CrossCheckConfirmed || !strings.Contains(is.CrossCheck, fmt.Sprintf("Q%d (=SUM(Q2:Q%d))", fx.totalRow, fx.last)) ||
				!strings.Contains(is.CrossCheck, fmt.Sprintf("+ %d = ", all)) {
				t.Errorf("cross-check %s: %s", is.CrossCheckStatus, is.CrossCheck)
			}
		})
	}

	// The same slip when Q's footer disagrees too: the issue is still
	// explained by M's formula, and the cross-check says it did not confirm.
	t.Run("cross-check contradicts", func(t *testing.T) {
		printed := fx.sumFrom(277, fx.last)
		path := ectest.Edit(t, "2023", func(f *excelize.File) error {
			if err := fx.setFooter(printed, fmt.Sprintf("SUM(M277:M%d)", fx.last))(f); err != nil {
				return err
			}
			return f.SetCellValue(ECSchengenSheet, fmt.Sprintf("Q%d", fx.totalRow), 1)
		})
		sh, err := readECSheet(t, path)
		if err != nil {
			t.Fatal(err)
		}
		if len(sh.Issues) != 1 || sh.Issues[0].CrossCheckStatus != CrossCheckContradicted {
			t.Errorf("issues = %+v, want one with a contradicting cross-check", sh.Issues)
		}
	})
}

// TestECSchengenUnexplainedMismatch: a footer total that no range of its
// own formula explains still stops the load, naming file, sheet, row,
// column, both sums and the formula.
func TestECSchengenUnexplainedMismatch(t *testing.T) {
	fx := footerFixture(t)
	row := fmt.Sprintf("row %d column M", fx.totalRow)
	tests := []struct {
		name    string
		value   int64
		formula string
		want    []string
	}{
		{name: "formula covers the data", value: 41617, formula: fmt.Sprintf("SUM(M2:M%d)", fx.last),
			want: []string{row, "sum to 102785", "says 41617", fmt.Sprintf("=SUM(M2:M%d) covers every data row", fx.last)}},
		{name: "narrowed range gives another number", value: 41617, formula: fmt.Sprintf("SUM(M277:M%d)", fx.last),
			want: []string{row, "sum to 102785", "says 41617", fmt.Sprintf("the data rows in its range sum to %d, not to the printed 41617", fx.sumFrom(277, fx.last))}},
		{name: "typed value", value: 41617,
			want: []string{row, "sum to 102785", "says 41617", "typed value, not a formula"}},
		{name: "another column's range", value: 41617, formula: fmt.Sprintf("SUM(L277:L%d)", fx.last),
			want: []string{row, "sum to 102785", "does not sum column M"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ectest.Edit(t, "2023", fx.setFooter(tt.value, tt.formula))
			_, err := readECSheet(t, path)
			if err == nil {
				t.Fatal("no error")
			}
			var ce *LocatedError
			if !errors.As(err, &ce) || ce.Column != "M" || ce.Line != int64(fx.totalRow) || ce.Sheet != ECSchengenSheet || ce.File != path {
				t.Errorf("error %v: want a *LocatedError at %s %s", err, path, row)
			}
			for _, w := range append(tt.want, filepath.Base(path), `"Data for consulates"`, "sha256 ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestECSchengenAcceptance: a maintainer's row lets exactly one file (by
// SHA-256) and cell through; the issue is still recorded. The same
// discrepancy in another file still fails, and a row that matches nothing
// is an error.
func TestECSchengenAcceptance(t *testing.T) {
	fx := footerFixture(t)
	full := fmt.Sprintf("SUM(M2:M%d)", fx.last)
	accepted := ectest.Edit(t, "2023", fx.setFooter(41617, full))
	// The same discrepancy in a file with other bytes (a note on another sheet).
	other := ectest.Edit(t, "2023", func(f *excelize.File) error {
		if err := fx.setFooter(41617, full)(f); err != nil {
			return err
		}
		return f.SetCellStr("Description", "A1", "copy")
	})
	_, sha, err := FileDigest(accepted)
	if err != nil {
		t.Fatal(err)
	}
	_, otherSHA, err := FileDigest(other)
	if err != nil || otherSHA == sha {
		t.Fatalf("the two fixtures must differ in bytes (%v)", err)
	}
	writeCSV := func(t *testing.T, body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "upstream_issues.csv")
		if err := os.WriteFile(p, []byte("sha256,sheet,cell,decided_by,date,reason\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	row := fmt.Sprintf("%s,Data for consulates,%s,A. Maintainer,2025-03-01,EC confirmed the printed total is wrong\n", sha, fx.cell())
	acc := writeCSV(t, row)
	list, err := ReadUpstreamAcceptances(acc)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("accepted file and cell", func(t *testing.T) {
		wb, err := ReadECWorkbookOptions(accepted, ECReadOptions{Layouts: testLayouts(t), Accepted: list})
		if err != nil {
			t.Fatal(err)
		}
		sh := wb.Data()
		if len(sh.Issues) != 1 {
			t.Fatalf("issues = %+v", sh.Issues)
		}
		is := sh.Issues[0]
		if is.Handling != HandlingAccepted || !strings.Contains(is.Decision, "A. Maintainer on 2025-03-01") ||
			!strings.Contains(is.Explanation, "nothing in the file explains it") || is.Printed != 41617 || is.DataRows != 102785 {
			t.Errorf("issue = %+v", is)
		}
		if sh.Total.Counts[fx.ltv] != 102785 || wb.SHA256 != sha {
			t.Errorf("reconciled M = %d sha %s", sh.Total.Counts[fx.ltv], wb.SHA256)
		}
	})
	t.Run("another file with the same discrepancy", func(t *testing.T) {
		_, err := ReadECWorkbookOptions(other, ECReadOptions{Layouts: testLayouts(t), Accepted: list})
		if err == nil || !strings.Contains(err.Error(), "sum to 102785, the total row says 41617") || !strings.Contains(err.Error(), otherSHA) {
			t.Errorf("err = %v, want the unexplained mismatch of %s", err, otherSHA)
		}
	})
	t.Run("another cell of the accepted file", func(t *testing.T) {
		path := ectest.Edit(t, "2023", func(f *excelize.File) error {
			if err := fx.setFooter(41617, full)(f); err != nil {
				return err
			}
			return f.SetCellValue(ECSchengenSheet, fmt.Sprintf("N%d", fx.totalRow), 5)
		})
		_, psha, _ := FileDigest(path)
		body := strings.Replace(row, sha, psha, 1)
		l, err := ReadUpstreamAcceptances(writeCSV(t, body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ReadECWorkbookOptions(path, ECReadOptions{Layouts: testLayouts(t), Accepted: l})
		var ce *LocatedError
		if !errors.As(err, &ce) || ce.Column != "N" {
			t.Errorf("err = %v, want column N to fail", err)
		}
	})

	t.Run("load", func(t *testing.T) {
		conn := openTestDB(t)
		src := NewECSchengen(ECSchengenConfig{Layouts: esCodeLists, Files: []ECSchengenFile{{Path: accepted, Year: 2023}}}, UpstreamIssuesConfig{Path: acc})
		if _, err := src.Load(context.Background(), conn); err != nil {
			t.Fatal(err)
		}
		var handling, file string
		var ltv int64
		if err := conn.QueryRowContext(context.Background(), `SELECT i.handling, i.file_name, t.ltv_issued
			FROM raw_ec_schengen_issues i JOIN raw_ec_schengen_totals t USING (file)`).Scan(&handling, &file, &ltv); err != nil {
			t.Fatal(err)
		}
		if handling != HandlingAccepted || file != filepath.Base(accepted) || ltv != 102785 {
			t.Errorf("loaded issue %q file %q, total M %d", handling, file, ltv)
		}
		ins, err := src.Inputs(context.Background())
		if err != nil || len(ins) != 5 || ins[4].Path != acc {
			t.Errorf("inputs = %+v (%v), want the workbook, the three layout files and the acceptance file", ins, err)
		}
	})
	t.Run("load another file", func(t *testing.T) {
		_, err := NewECSchengen(ECSchengenConfig{Layouts: esCodeLists, Files: []ECSchengenFile{{Path: other, Year: 2023}}}, UpstreamIssuesConfig{Path: acc}).
			Load(context.Background(), openTestDB(t))
		if err == nil || !strings.Contains(err.Error(), "the total row says 41617") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("accepted file replaced", func(t *testing.T) {
		// The publisher's corrected file (here the shipped original) loads
		// as usual: the acceptance of the old file's bytes neither applies
		// nor stops the run.
		conn := openTestDB(t)
		if _, err := NewECSchengen(ECSchengenConfig{Layouts: esCodeLists, Files: []ECSchengenFile{{Path: ectest.File(t, "2023"), Year: 2023}}}, UpstreamIssuesConfig{Path: acc}).
			Load(context.Background(), conn); err != nil {
			t.Fatal(err)
		}
		var issues int
		if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM raw_ec_schengen_issues`).Scan(&issues); err != nil || issues != 0 {
			t.Errorf("issues = %d (%v), want 0", issues, err)
		}
	})
}

// TestReadUpstreamAcceptancesBad: every malformed row is refused with its
// line and column.
func TestReadUpstreamAcceptancesBad(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	good := sha + ",Data for consulates,M2042,A. Maintainer,2025-03-01,checked with the publisher\n"
	tests := []struct {
		name   string
		body   string
		line   int
		column string
		want   string
	}{
		{name: "header", body: "sha,sheet,cell\n", line: 1, want: "expected the header"},
		{name: "short sha", body: "hdr" + strings.Replace(good, sha, "abc", 1), line: 2, column: "sha256", want: "64 lower-case hex"},
		{name: "cell", body: "hdr" + strings.Replace(good, "M2042", "M", 1), line: 2, column: "cell", want: "such as M2042"},
		{name: "date", body: "hdr" + strings.Replace(good, "2025-03-01", "1 March 2025", 1), line: 2, column: "date", want: "YYYY-MM-DD"},
		{name: "empty reason", body: "hdr" + strings.Replace(good, "checked with the publisher", "", 1), line: 2, column: "reason", want: "empty value"},
		{name: "duplicate", body: "hdr" + good + good, line: 3, column: "cell", want: "already accepted on line 2"},
		{name: "fields", body: "hdr" + good + "a,b\n", line: 3, want: "expected 6 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(tt.body, "hdr", "sha256,sheet,cell,decided_by,date,reason\n", 1)
			p := filepath.Join(t.TempDir(), "upstream_issues.csv")
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadUpstreamAcceptances(p)
			var ce *LocatedError
			if !errors.As(err, &ce) || ce.File != p || ce.Line != int64(tt.line) || ce.Column != tt.column || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want line %d column %q: %s", err, tt.line, tt.column, tt.want)
			}
		})
	}
	// The shipped file is a header only and accepts nothing.
	list, err := ReadUpstreamAcceptances("../data/curated/upstream_issues.csv")
	if err != nil || len(list) != 0 {
		t.Errorf("shipped acceptances = %+v (%v), want none", list, err)
	}
}
