package sources

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// UpstreamIssuesConfig locates the curated file in which a maintainer
// accepts discrepancies found in upstream files after investigating them.
type UpstreamIssuesConfig struct {
	// Path is the CSV file; "" accepts nothing.
	Path string `mapstructure:"path"`
}

// upstreamAcceptanceColumns is the header of the acceptance file.
var upstreamAcceptanceColumns = []string{"sha256", "sheet", "cell", "decided_by", "date", "reason"}

// Issue handlings: what visastats did about a discrepancy it found.
const (
	// HandlingLoadedDataRows: the discrepancy is explained by the file
	// itself (a footer formula that leaves data rows out), so the data rows
	// were loaded.
	HandlingLoadedDataRows = "loaded data rows"
	// HandlingAccepted: a maintainer accepted the discrepancy of exactly this
	// file and cell in the curated file, so the data rows were loaded.
	HandlingAccepted = "accepted by maintainer"
	// HandlingWithheld: a published cell that cannot be a count (a negative
	// number) is not published as one; its value and place are listed, and
	// the footer total it was part of is explained.
	HandlingWithheld = "withheld"
)

// Issue kinds: what in a file disagrees with its data.
const (
	// IssueFooterTotal: a footer total that differs from the sum of the
	// data rows that visastats publishes.
	IssueFooterTotal = "footer_total"
	// IssueNegativeCount: a data cell that holds a negative count.
	IssueNegativeCount = "negative_count"
)

// UpstreamAcceptance is one row of the acceptance file: a maintainer lets
// one cell of one exact file (by SHA-256) through.
type UpstreamAcceptance struct {
	File      string // the acceptance file, for messages
	Line      int
	SHA256    string
	Sheet     string
	Cell      string
	DecidedBy string
	Date      string // YYYY-MM-DD
	Reason    string
}

// key identifies the cell an acceptance is for.
func (a UpstreamAcceptance) key() string { return a.SHA256 + "\x00" + a.Sheet + "\x00" + a.Cell }

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	cellRef   = regexp.MustCompile(`^[A-Z]{1,3}[1-9][0-9]*$`)
)

// ReadUpstreamAcceptances reads and checks the acceptance file. Every
// problem is a *LocatedError naming the file, line and column.
func ReadUpstreamAcceptances(path string) ([]UpstreamAcceptance, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read upstream issue acceptances %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(newRecordLimitReader(newLineLimitReader(f, Limits{}), path, 1, Limits{}))
	r.FieldsPerRecord = len(upstreamAcceptanceColumns)
	head, err := r.Read()
	if err == io.EOF {
		return nil, &LocatedError{File: path, Line: 1, Err: fmt.Errorf("the file is empty; expected the header %s", strings.Join(upstreamAcceptanceColumns, ","))}
	}
	if err != nil || strings.Join(head, ",") != strings.Join(upstreamAcceptanceColumns, ",") {
		return nil, &LocatedError{File: path, Line: 1, Value: strings.Join(head, ","), Err: fmt.Errorf("expected the header %s", strings.Join(upstreamAcceptanceColumns, ","))}
	}
	var out []UpstreamAcceptance
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, &LocatedError{File: path, Line: int64(line), Err: fmt.Errorf("expected %d fields (%s): %w", len(upstreamAcceptanceColumns), strings.Join(upstreamAcceptanceColumns, ","), err)}
		}
		bad := func(col, val string, e error) error {
			return &LocatedError{File: path, Line: int64(line), Column: col, Value: val, Err: e}
		}
		for i, name := range upstreamAcceptanceColumns {
			if strings.TrimSpace(rec[i]) == "" {
				return nil, bad(name, "", errors.New("empty value; every column is required"))
			}
		}
		a := UpstreamAcceptance{File: path, Line: line, SHA256: rec[0], Sheet: rec[1], Cell: rec[2], DecidedBy: rec[3], Date: rec[4], Reason: rec[5]}
		if !sha256Hex.MatchString(a.SHA256) {
			return nil, bad("sha256", a.SHA256, errors.New("expected the 64 lower-case hex digits of the file's SHA-256 (visastats sources prints them)"))
		}
		if !cellRef.MatchString(a.Cell) {
			return nil, bad("cell", a.Cell, errors.New("expected a cell reference such as M2042"))
		}
		if _, err := time.Parse("2006-01-02", a.Date); err != nil {
			return nil, bad("date", a.Date, errors.New("expected a date as YYYY-MM-DD"))
		}
		if prev, ok := seen[a.key()]; ok {
			return nil, bad("cell", a.Cell, fmt.Errorf("this file, sheet and cell are already accepted on line %d", prev))
		}
		seen[a.key()] = line
		out = append(out, a)
	}
}
