package sources

import (
	"bufio"
	"bytes"
	"database/sql/driver"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// unhcrMaxPreamble bounds the search for the header line: Refugee Data
// Finder preambles are about 15 lines.
const unhcrMaxPreamble = 100

// unhcrColumn maps one CSV column, found by its header, to a raw table
// column. An empty header is a raw column the layout does not have: it is
// stored as "".
type unhcrColumn struct {
	header string
	parse  func(string) (driver.Value, error)
}

// unhcrLayout is one kind of UNHCR CSV table: the raw table its rows go to,
// the column that identifies it, and its columns in raw table order after
// file and line.
type unhcrLayout struct {
	name   string // stored in raw_unhcr_files.layout
	table  string
	marker string
	cols   []unhcrColumn
}

// unhcrLayouts are the CSV tables the source reads. Refugee Data Finder
// exports name their columns in words; the refugees R package (written with
// R write.csv) uses the population API's field names. A header is matched
// to the first layout whose marker column it has, so a layout whose marker
// another layout also has (applied) comes after it.
func unhcrLayouts() []unhcrLayout {
	return []unhcrLayout{
		{"rdf_footnotes", unhcrFootnotesTable, "Footnote", []unhcrColumn{
			{"Footnote", unhcrText},
			{"Year", unhcrYears},
			{"Country of origin (ISO)", unhcrText},
			{"Country of asylum (ISO)", unhcrText},
			{"Population type", unhcrText},
		}},
		{"refugees_asylum_applications", unhcrApplicationsTable, "app_pc", []unhcrColumn{
			{"year", unhcrYear},
			{"coo_name", unhcrText},
			{"coo_iso", unhcrText},
			{"coa_name", unhcrText},
			{"coa_iso", unhcrText},
			{"procedure_type", unhcrText},
			{"app_type", unhcrText},
			{"dec_level", unhcrText},
			{"app_pc", unhcrCasesPersons},
			{"applied", unhcrRCount},
			{"coo", unhcrText},
			{"coa", unhcrText},
		}},
		{"refugees_asylum_decisions", unhcrDecisionsTable, "dec_pc", []unhcrColumn{
			{"year", unhcrYear},
			{"coo_name", unhcrText},
			{"coo", unhcrText},
			{"coo_iso", unhcrText},
			{"coa_name", unhcrText},
			{"coa", unhcrText},
			{"coa_iso", unhcrText},
			{"procedure_type", unhcrText},
			{"dec_level", unhcrText},
			{"dec_pc", unhcrCasesPersons},
			{"dec_recognized", unhcrRCount},
			{"dec_other", unhcrRCount},
			{"dec_rejected", unhcrRCount},
			{"dec_closed", unhcrRCount},
			{"dec_total", unhcrRCount},
		}},
		{"rdf_asylum_applications", unhcrApplicationsTable, "applied", []unhcrColumn{
			{"Year", unhcrYear},
			{"Country of origin", unhcrText},
			{"Country of origin (ISO)", unhcrText},
			{"Country of asylum", unhcrText},
			{"Country of asylum (ISO)", unhcrText},
			{"Authority", unhcrText},
			{"Application type", unhcrText},
			{"Stage of procedure", unhcrText},
			{"Cases / Persons", unhcrCasesPersons},
			{"applied", unhcrCount},
			{"", nil}, // origin_code: exports have no UNHCR codes
			{"", nil}, // asylum_code
		}},
		// Authority and stage of procedure are the API's procedure_type and
		// dec_level: they land in the same raw columns.
		{"rdf_asylum_decisions", unhcrDecisionsTable, "Total decisions", []unhcrColumn{
			{"Year", unhcrYear},
			{"Country of origin", unhcrText},
			{"", nil},
			{"Country of origin (ISO)", unhcrText},
			{"Country of asylum", unhcrText},
			{"", nil},
			{"Country of asylum (ISO)", unhcrText},
			{"Authority", unhcrText},
			{"Stage of procedure", unhcrText},
			{"Cases / Persons", unhcrCasesPersons},
			{"Recognized decisions", unhcrCount},
			{"Complementary protection", unhcrCount},
			{"Rejected decisions", unhcrCount},
			{"Otherwise closed", unhcrCount},
			{"Total decisions", unhcrCount},
		}},
	}
}

// unhcrCSVReader reads the rows of one Refugee Data Finder CSV export.
type unhcrCSVReader struct {
	file   string
	table  string
	layout string
	// extracted is the "Date extracted:" of the export's preamble; zero
	// when the file has none.
	extracted time.Time
	cr        *csv.Reader
	offset    int64 // lines before the header line
	header    []string
	cols      []unhcrColumn
	pos       []int // record index of each of cols
}

// newUNHCRCSVReader skips the metadata preamble, reads the header and
// decides from its columns which raw table the rows belong to. A record
// longer than limits allow is a *LimitError.
func newUNHCRCSVReader(r io.Reader, file string, limits Limits) (*unhcrCSVReader, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(2); len(b) == 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		return nil, &LocatedError{File: file, Line: 1, Err: errors.New("file is UTF-16 encoded; export or re-save it as UTF-8")}
	}
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	u := &unhcrCSVReader{file: file}
	var headerLine string
	var lineNo int64
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			lineNo++
			if strings.HasPrefix(line, "Year,") || strings.HasPrefix(line, `"year",`) || strings.HasPrefix(line, "Footnote,") {
				headerLine = line
				break
			}
			if err := u.readPreamble(line, lineNo); err != nil {
				return nil, err
			}
		}
		if err == io.EOF || lineNo >= unhcrMaxPreamble {
			return nil, &LocatedError{File: file, Line: lineNo, Err: fmt.Errorf("no header line starting with \"Year,\" in the first %d lines; is this a UNHCR Refugee Data Finder CSV export?", lineNo)}
		}
		if err != nil {
			return nil, fmt.Errorf("unhcr: read %s: %w", file, err)
		}
	}
	u.offset = lineNo - 1
	u.cr = csv.NewReader(newRecordLimitReader(io.MultiReader(strings.NewReader(headerLine), br), file, lineNo, limits))
	u.cr.FieldsPerRecord = -1 // checked in next, to name the missing column
	u.cr.ReuseRecord = true
	header, err := u.cr.Read()
	if err != nil {
		return nil, u.csvError(err)
	}
	u.header = slices.Clone(header)
	if err := u.mapHeader(); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *unhcrCSVReader) mapHeader() error {
	line := u.offset + 1
	at := map[string]int{}
	for i, h := range u.header {
		if !utf8.ValidString(h) {
			return &LocatedError{File: u.file, Line: line, Column: fmt.Sprintf("field %d", i+1), Value: h, Err: errUNHCRNotUTF8}
		}
		if _, dup := at[h]; dup {
			return &LocatedError{File: u.file, Line: line, Column: h, Value: h, Err: errors.New("column appears twice in the header")}
		}
		at[h] = i
	}
	for _, l := range unhcrLayouts() {
		if _, ok := at[l.marker]; ok {
			u.layout, u.table, u.cols = l.name, l.table, l.cols
			break
		}
	}
	if u.table == "" {
		return &LocatedError{File: u.file, Line: line, Column: "header", Value: strings.Join(u.header, ","),
			Err: fmt.Errorf("unsupported UNHCR table (columns %s); supported: asylum applications (with an %q column), asylum decisions (%q or %q) and footnotes", strings.Join(u.header, ", "), "applied", "Total decisions", "dec_total")}
	}
	want := map[string]bool{}
	for _, c := range u.cols {
		if c.header == "" {
			u.pos = append(u.pos, -1)
			continue
		}
		want[c.header] = true
		i, ok := at[c.header]
		if !ok {
			return &LocatedError{File: u.file, Line: line, Column: c.header, Value: strings.Join(u.header, ","), Err: errors.New("column missing from the header")}
		}
		u.pos = append(u.pos, i)
	}
	for _, h := range u.header {
		if !want[h] {
			return &LocatedError{File: u.file, Line: line, Column: h, Value: h, Err: errors.New("unexpected column; the export's table is not the one its other columns suggest")}
		}
	}
	return nil
}

var errUNHCRNotUTF8 = errors.New("invalid UTF-8; export or re-save the file as UTF-8")

// next returns the next row as raw table values (file, line, columns...),
// or io.EOF after the last one.
func (u *unhcrCSVReader) next() ([]driver.Value, error) {
	rec, err := u.cr.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, u.csvError(err)
	}
	l, _ := u.cr.FieldPos(0)
	line := u.offset + int64(l)
	if len(rec) != len(u.header) {
		col := fmt.Sprintf("field %d", len(u.header)+1)
		if len(rec) < len(u.header) {
			col = u.header[len(rec)]
		}
		return nil, &LocatedError{File: u.file, Line: line, Column: col, Value: strings.Join(rec, ","),
			Err: fmt.Errorf("record has %d fields, header has %d", len(rec), len(u.header))}
	}
	row := make([]driver.Value, 0, 2+len(u.cols))
	row = append(row, u.file, line)
	for i, c := range u.cols {
		if u.pos[i] < 0 {
			row = append(row, "")
			continue
		}
		raw := rec[u.pos[i]]
		if !utf8.ValidString(raw) {
			return nil, &LocatedError{File: u.file, Line: line, Column: c.header, Value: raw, Err: errUNHCRNotUTF8}
		}
		v, err := c.parse(raw)
		if err != nil {
			return nil, &LocatedError{File: u.file, Line: line, Column: c.header, Value: raw, Err: err}
		}
		row = append(row, v)
	}
	return row, nil
}

// readPreamble reads one line of a Refugee Data Finder metadata preamble,
// keeping its "Date extracted:" (dd/mm/yyyy hh:mm), which tells which
// release the export was taken from.
func (u *unhcrCSVReader) readPreamble(line string, lineNo int64) error {
	cr := csv.NewReader(strings.NewReader(line))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	rec, err := cr.Read()
	if err != nil || len(rec) < 2 || strings.TrimSpace(rec[0]) != "Date extracted:" {
		return nil // other preamble lines are free text
	}
	v := strings.TrimSpace(rec[1])
	t, err := time.Parse("02/01/2006 15:04", v)
	if err != nil {
		return &LocatedError{File: u.file, Line: lineNo, Column: "Date extracted:", Value: v, Err: errors.New("want a date dd/mm/yyyy hh:mm")}
	}
	u.extracted = t
	return nil
}

func (u *unhcrCSVReader) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LocatedError{File: u.file, Line: u.offset + int64(pe.Line), Column: fmt.Sprintf("byte %d", pe.Column), Err: pe.Err}
	}
	var le *LocatedError
	if errors.As(err, &le) {
		return err // over a limit, located already
	}
	return fmt.Errorf("unhcr: read %s: %w", u.file, err)
}

func unhcrText(s string) (driver.Value, error) { return s, nil }

// unhcrYear reads a year: four digits, from MinYear to next year.
func unhcrYear(s string) (driver.Value, error) {
	y, err := parseYear(s)
	if err != nil {
		return nil, err
	}
	return int32(y), nil
}

// unhcrYears checks a footnote's year field, a list of years and ranges
// such as "2018, 2020, 2022 - 2023", and keeps it as published.
func unhcrYears(s string) (driver.Value, error) {
	for _, part := range strings.Split(s, ",") {
		ends := strings.Split(part, "-")
		if len(ends) > 2 {
			return nil, errors.New("not a year, a range \"2019 - 2023\" or a list of them")
		}
		for _, e := range ends {
			_, err := unhcrYear(strings.TrimSpace(e))
			if errors.Is(err, ErrImplausibleYear) {
				return nil, err
			}
			if err != nil {
				return nil, errors.New("not a year, a range \"2019 - 2023\" or a list of them")
			}
		}
	}
	return s, nil
}

func unhcrCasesPersons(s string) (driver.Value, error) {
	if s != "P" && s != "C" {
		return nil, errors.New("want P (persons) or C (cases)")
	}
	return s, nil
}

// unhcrCount parses a published count. "-" and "" mean no data (NULL),
// never zero. A number is digits as UNHCR writes them (parsePublishedNumber).
func unhcrCount(s string) (driver.Value, error) {
	if s == "" || s == "-" {
		return nil, nil
	}
	f, ok := parsePublishedNumber([]byte(s), false)
	if !ok {
		return nil, errors.New("not a number, \"-\" or empty")
	}
	if !plausibleCount(f) {
		return nil, ErrImplausibleCount
	}
	return f, nil
}

// unhcrRCount parses a count of a refugees package table. R write.csv
// writes a missing number as an unquoted NA: it is not available (NULL),
// never zero. The code columns are left as they are, because there NA is a
// real code (app_type, dec_level) that write.csv quotes like every string.
func unhcrRCount(s string) (driver.Value, error) {
	if s == "NA" {
		return nil, nil
	}
	return unhcrCount(s)
}
