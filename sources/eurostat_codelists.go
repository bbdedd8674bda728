package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The Eurostat code lists are data: data/reference/eurostat_codes.csv holds
// every code (and legacy appsso label) of the small dimensions with the
// indicator it counts, data/reference/eurostat_flags.csv every flag letter
// with its canonical meaning. The source reads both once per Load, checks
// them, hands them to the parsers and writes them to ref_eurostat_codes and
// ref_eurostat_flags, so that SQL maps codes by join. A code or label that
// is not listed is an error: a new breakdown upstream must be looked at
// before it reaches the observations.

// Names of the code list files in the configured directory.
const (
	EurostatCodesFile = "eurostat_codes.csv"
	EurostatFlagsFile = "eurostat_flags.csv"
)

// Generations of Eurostat codings, as written to the generation column of
// eurostat_codes.csv: a code of the older extracts (asyl_app, TOTAL_POS,
// GENCONV, ...), of the current ones (applicant FRST/SSEQ/TOTAL, decision
// POS, POS_RFG, ...), or of both.
const (
	eurostatGenAll     = "all"
	eurostatGenLegacy  = "legacy"
	eurostatGenCurrent = "current"
)

// Flag lists, as written to the list column of eurostat_flags.csv.
const (
	eurostatListObs    = "obs_status"  // observation status, lower case
	eurostatListConf   = "conf_status" // confidentiality status, upper case
	eurostatListLegacy = "legacy"      // codes used before 27 January 2025
)

// eurostatLetters is a set of flag letters, indexed by byte so that the
// check of a cell's flags costs one load per letter.
type eurostatLetters [256]bool

// check returns the position (0-based) of the first byte of flags that is
// not in the set, or -1.
func (l *eurostatLetters) check(flags []byte) int {
	for i := 0; i < len(flags); i++ {
		if !l[flags[i]] {
			return i
		}
	}
	return -1
}

// eurostatCodeRow is one line of eurostat_codes.csv.
type eurostatCodeRow struct {
	dimension, code, generation, indicator, label, appssoLabel string
	line                                                       int
}

// eurostatFlagRow is one line of eurostat_flags.csv.
type eurostatFlagRow struct {
	letter, list, meaning, canonicalLetter, canonicalMeaning string
	validFrom, validTo                                       any // time.Time or nil
	line                                                     int
}

// eurostatCodeLists is what the two files say, in the forms the parsers
// use: per dimension (batch column) the codes and the normalised appsso
// labels, and the flag letters a published flags string may hold.
type eurostatCodeLists struct {
	codesFile, flagsFile string
	codes                [esNDict]map[string]struct{}
	labels               [esNDict]map[string]string // normalised label -> code
	cellFlags            eurostatLetters            // any list: OBS_FLAG, TSV cells, appsso
	confFlags            eurostatLetters            // conf_status only: CONF_STATUS
	codeRows             []eurostatCodeRow
	flagRows             []eurostatFlagRow
	limits               Limits // bound the reading of the two files
}

// code reports whether v is a listed code of the dimension in column k.
// The conversion in the map index does not allocate.
func (cl *eurostatCodeLists) code(k int, v []byte) bool {
	_, ok := cl.codes[k][string(v)]
	return ok
}

// codeString is code for a string.
func (cl *eurostatCodeLists) codeString(k int, v string) bool {
	_, ok := cl.codes[k][v]
	return ok
}

// label maps a label of the legacy appsso export to its code. Labels
// compare case-insensitively with runs of space folded.
func (cl *eurostatCodeLists) label(k int, label string) (string, bool) {
	code, ok := cl.labels[k][eurostatNormLabel(label)]
	return code, ok
}

func eurostatNormLabel(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// unknownCode is the error for a code or label the lists do not hold: it
// names the dataset, the dimension, the value and the file to update.
func (cl *eurostatCodeLists) unknownCode(dataset string, k int, v, what string) error {
	return fmt.Errorf("%w: %s %s %q of dataset %s is not in %s; add a line there once you know what it means",
		ErrEurostatUnknownLabel, esDictNames[k], what, v, dataset, cl.codesFile)
}

// unknownFlag is the error for a flag letter the flag list does not hold.
func (cl *eurostatCodeLists) unknownFlag(letter []byte) error {
	return fmt.Errorf("%w %q (not in %s)", ErrEurostatUnknownFlag, letter, cl.flagsFile)
}

// eurostatCodeDims are the dimensions the code list holds (citizen and geo
// are countries, in the country reference).
var eurostatCodeDims = [...]int{esFreq, esUnit, esSex, esAge, esApplicant, esDecision}

var (
	eurostatCodeRe      = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	eurostatIndicatorRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// readEurostatCodeLists reads and checks eurostat_codes.csv and
// eurostat_flags.csv in dir. A malformed line is a *LocatedError naming file,
// line and column.
func readEurostatCodeLists(dir string, limits Limits) (*eurostatCodeLists, error) {
	cl := &eurostatCodeLists{
		codesFile: filepath.Join(dir, EurostatCodesFile),
		flagsFile: filepath.Join(dir, EurostatFlagsFile),
		limits:    limits,
	}
	for k := range cl.codes {
		cl.codes[k] = map[string]struct{}{}
		cl.labels[k] = map[string]string{}
	}
	if err := cl.readCodes(); err != nil {
		return nil, err
	}
	if err := cl.readFlags(); err != nil {
		return nil, err
	}
	return cl, nil
}

func (cl *eurostatCodeLists) readCodes() error {
	path := cl.codesFile
	header := []string{"dimension", "code", "generation", "indicator", "label", "appsso_label"}
	labelLine := map[string]int{}
	err := readEurostatListCSV(path, header, cl.limits, func(line int, rec []string) error {
		bad := func(col int, msg string) error {
			return &LocatedError{File: path, Line: int64(line), Column: header[col], Value: rec[col], Err: errors.New(msg)}
		}
		r := eurostatCodeRow{dimension: rec[0], code: rec[1], generation: rec[2], indicator: rec[3], label: rec[4], appssoLabel: rec[5], line: line}
		k, ok := eurostatDimColumn(r.dimension)
		if !ok || k == esCitizen || k == esGeo || r.dimension != esDictNames[k] {
			return bad(0, "expected freq, unit, sex, age, applicant or decision")
		}
		if !eurostatCodeRe.MatchString(r.code) {
			return bad(1, "expected a code of letters, digits, _ and -")
		}
		if _, dup := cl.codes[k][r.code]; dup {
			return bad(1, "the code is listed twice for this dimension")
		}
		switch r.generation {
		case eurostatGenAll, eurostatGenLegacy, eurostatGenCurrent:
		default:
			return bad(2, "expected all, legacy or current")
		}
		counted := k == esApplicant || k == esDecision
		switch {
		case counted && !eurostatIndicatorRe.MatchString(r.indicator):
			return bad(3, "applicant and decision codes need the indicator they count (lower case, e.g. decisions_positive)")
		case !counted && r.indicator != "":
			return bad(3, "only applicant and decision codes name an indicator")
		}
		if strings.TrimSpace(r.label) == "" {
			return bad(4, "empty label")
		}
		cl.codes[k][r.code] = struct{}{}
		if r.appssoLabel != "" {
			n := eurostatNormLabel(r.appssoLabel)
			if prev, dup := labelLine[r.dimension+"|"+n]; dup {
				return bad(5, fmt.Sprintf("the label is already given to another code on line %d", prev))
			}
			labelLine[r.dimension+"|"+n] = line
			cl.labels[k][n] = r.code
		}
		cl.codeRows = append(cl.codeRows, r)
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range eurostatCodeDims {
		if len(cl.codes[k]) == 0 {
			return &LocatedError{File: path, Err: fmt.Errorf("no code for dimension %s", esDictNames[k])}
		}
	}
	return nil
}

func (cl *eurostatCodeLists) readFlags() error {
	path := cl.flagsFile
	header := []string{"letter", "list", "meaning", "canonical_letter", "canonical_meaning", "valid_from", "valid_to"}
	seen := map[string]int{}
	err := readEurostatListCSV(path, header, cl.limits, func(line int, rec []string) error {
		bad := func(col int, msg string) error {
			return &LocatedError{File: path, Line: int64(line), Column: header[col], Value: rec[col], Err: errors.New(msg)}
		}
		r := eurostatFlagRow{letter: rec[0], list: rec[1], meaning: rec[2], canonicalLetter: rec[3], canonicalMeaning: rec[4], line: line}
		if len(r.letter) != 1 || !(r.letter[0] >= 'a' && r.letter[0] <= 'z' || r.letter[0] >= 'A' && r.letter[0] <= 'Z') {
			return bad(0, "expected one letter")
		}
		if prev, dup := seen[r.letter]; dup {
			return bad(0, fmt.Sprintf("the letter is already listed on line %d", prev))
		}
		seen[r.letter] = line
		c := r.letter[0]
		upper := c >= 'A' && c <= 'Z'
		// Observation status letters are lower case and confidentiality
		// status letters upper case: that keeps a combined flags string
		// ("pC") readable without its columns.
		switch r.list {
		case eurostatListConf:
			if !upper {
				return bad(0, "conf_status letters are upper case")
			}
		case eurostatListObs, eurostatListLegacy:
			if upper {
				return bad(0, "obs_status and legacy letters are lower case")
			}
		default:
			return bad(1, "expected obs_status, conf_status or legacy")
		}
		if strings.TrimSpace(r.meaning) == "" {
			return bad(2, "empty meaning")
		}
		if len(r.canonicalLetter) != 1 {
			return bad(3, "expected one letter")
		}
		if !eurostatIndicatorRe.MatchString(r.canonicalMeaning) {
			return bad(4, "expected a lower-case word such as provisional or confidential")
		}
		for i, dst := range []*any{&r.validFrom, &r.validTo} {
			if rec[5+i] == "" {
				continue
			}
			d, err := time.Parse(time.DateOnly, rec[5+i])
			if err != nil {
				return bad(5+i, "expected a date YYYY-MM-DD or nothing")
			}
			*dst = d
		}
		cl.cellFlags[c] = true
		if r.list == eurostatListConf {
			cl.confFlags[c] = true
		}
		cl.flagRows = append(cl.flagRows, r)
		return nil
	})
	if err != nil {
		return err
	}
	// A canonical letter is one whose own row maps to itself, with the
	// same canonical meaning: old and new letters meet in one place.
	own := map[string]eurostatFlagRow{}
	for _, r := range cl.flagRows {
		if r.canonicalLetter == r.letter {
			own[r.letter] = r
		}
	}
	for _, r := range cl.flagRows {
		t, ok := own[r.canonicalLetter]
		switch {
		case !ok:
			return &LocatedError{File: path, Line: int64(r.line), Column: "canonical_letter", Value: r.canonicalLetter,
				Err: errors.New("expected a letter whose own line gives itself as canonical letter")}
		case t.canonicalMeaning != r.canonicalMeaning:
			return &LocatedError{File: path, Line: int64(r.line), Column: "canonical_meaning", Value: r.canonicalMeaning,
				Err: fmt.Errorf("line %d gives %s the canonical meaning %s", t.line, t.letter, t.canonicalMeaning)}
		}
	}
	if len(cl.flagRows) == 0 {
		return &LocatedError{File: path, Err: errors.New("no flag letters")}
	}
	return nil
}

// readEurostatListCSV reads a code list whose header is exactly header
// and calls fn with each record's line and fields.
func readEurostatListCSV(path string, header []string, limits Limits, fn func(line int, rec []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read code list: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(newRecordLimitReader(newLineLimitReader(f, limits), path, 1, limits))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	var le *LocatedError
	if errors.As(err, &le) {
		return err // over a limit, located already
	}
	if err != nil {
		return fmt.Errorf("read %s: header: %w", path, err)
	}
	if strings.Join(head, ",") != strings.Join(header, ",") {
		return &LocatedError{File: path, Line: 1, Value: strings.Join(head, ","), Err: fmt.Errorf("expected the header %s", strings.Join(header, ","))}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &LocatedError{File: path, Line: int64(pe.Line), Err: pe.Err}
			}
			if errors.As(err, &le) {
				return err
			}
			return fmt.Errorf("read %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			return &LocatedError{File: path, Line: int64(line), Err: fmt.Errorf("expected %d fields, got %d", len(header), len(rec))}
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

// writeEurostatCodeLists writes the code lists to ref_eurostat_codes and
// ref_eurostat_flags, for the transforms to join on.
func writeEurostatCodeLists(ctx context.Context, conn *sql.Conn, cl *eurostatCodeLists) (codes, flags int64, err error) {
	ddl := []string{
		`CREATE OR REPLACE TABLE ref_eurostat_codes (
	dimension VARCHAR NOT NULL, code VARCHAR NOT NULL, generation VARCHAR NOT NULL,
	indicator VARCHAR,          -- NULL except for applicant and decision codes
	label VARCHAR NOT NULL, appsso_label VARCHAR, file VARCHAR NOT NULL, line INTEGER NOT NULL,
	PRIMARY KEY (dimension, code))`,
		`CREATE OR REPLACE TABLE ref_eurostat_flags (
	letter VARCHAR NOT NULL PRIMARY KEY, list VARCHAR NOT NULL, meaning VARCHAR NOT NULL,
	canonical_letter VARCHAR NOT NULL, canonical_meaning VARCHAR NOT NULL,
	valid_from DATE, valid_to DATE, file VARCHAR NOT NULL, line INTEGER NOT NULL)`,
	}
	for _, q := range ddl {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, 0, fmt.Errorf("create eurostat code list tables: %w", err)
		}
	}
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	codes, err = appendRows(ctx, conn, "ref_eurostat_codes", func(add func(...driver.Value) error) error {
		for _, r := range cl.codeRows {
			if err := add(r.dimension, r.code, r.generation, null(r.indicator), r.label, null(r.appssoLabel), cl.codesFile, int32(r.line)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	flags, err = appendRows(ctx, conn, "ref_eurostat_flags", func(add func(...driver.Value) error) error {
		for _, r := range cl.flagRows {
			if err := add(r.letter, r.list, r.meaning, r.canonicalLetter, r.canonicalMeaning, r.validFrom, r.validTo, cl.flagsFile, int32(r.line)); err != nil {
				return err
			}
		}
		return nil
	})
	return codes, flags, err
}

// EurostatCode is one line of eurostat_codes.csv, for documentation.
type EurostatCode struct {
	Dimension, Code, Generation, Indicator, Label, AppssoLabel string
}

// EurostatFlag is one line of eurostat_flags.csv, for documentation; the
// dates are YYYY-MM-DD or empty.
type EurostatFlag struct {
	Letter, List, Meaning, CanonicalLetter, CanonicalMeaning, ValidFrom, ValidTo string
}

// ReadEurostatCodeLists reads and checks the Eurostat code lists in dir as
// the source does, and returns their lines in file order.
func ReadEurostatCodeLists(dir string) ([]EurostatCode, []EurostatFlag, error) {
	cl, err := readEurostatCodeLists(dir, Limits{})
	if err != nil {
		return nil, nil, err
	}
	codes := make([]EurostatCode, 0, len(cl.codeRows))
	for _, r := range cl.codeRows {
		codes = append(codes, EurostatCode{r.dimension, r.code, r.generation, r.indicator, r.label, r.appssoLabel})
	}
	date := func(v any) string {
		if d, ok := v.(time.Time); ok {
			return d.Format(time.DateOnly)
		}
		return ""
	}
	flags := make([]EurostatFlag, 0, len(cl.flagRows))
	for _, r := range cl.flagRows {
		flags = append(flags, EurostatFlag{r.letter, r.list, r.meaning, r.canonicalLetter, r.canonicalMeaning, date(r.validFrom), date(r.validTo)})
	}
	return codes, flags, nil
}
