package sources

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// EurostatConfig configures the Eurostat asylum statistics source.
type EurostatConfig struct {
	// Paths lists files or directories. A directory stands for every
	// *.csv, *.tsv, *.csv.gz and *.tsv.gz file directly in it, sorted by
	// name. The format of each file is detected from its content.
	Paths []string `mapstructure:"paths"`
	// CodeLists is the directory of eurostat_codes.csv (the codes and
	// legacy labels of the small dimensions, with the indicator each
	// applicant and decision code counts) and eurostat_flags.csv (the flag
	// letters, old and new, with their canonical meaning).
	CodeLists string `mapstructure:"code_lists"`
	// Limits bound what is read from each file; set from the top-level
	// limits configuration, zero means the defaults.
	Limits Limits `mapstructure:"-"`
}

// The raw tables the source writes (see eurostat_arrow.go for why the
// cells are stored apart from their series), and the view that joins them
// into one row per published cell.
const (
	eurostatSeriesTable  = "raw_eurostat_series"
	eurostatCellsTable   = "raw_eurostat_cells"
	eurostatPeriodsTable = "raw_eurostat_periods"
	eurostatFlagsTable   = "raw_eurostat_flags"
	eurostatView         = "raw_eurostat_asylum"
)

// eurostatDDL is the raw contract the SQL transforms depend on.
var eurostatDDL = []string{
	`CREATE TABLE raw_eurostat_series (
	series_id INTEGER NOT NULL, -- numbers series across the files of a run
	dataset VARCHAR NOT NULL,
	file VARCHAR NOT NULL,
	line BIGINT NOT NULL,       -- where the series is first seen
	format VARCHAR NOT NULL,
	coding VARCHAR NOT NULL,    -- code, or label in the legacy exports
	unit VARCHAR NOT NULL,
	citizen VARCHAR NOT NULL,
	sex VARCHAR NOT NULL,
	age VARCHAR NOT NULL,
	applicant VARCHAR NOT NULL, -- '' in decision datasets
	decision VARCHAR NOT NULL,  -- '' in applicant datasets
	geo VARCHAR NOT NULL
)`,
	`CREATE TABLE raw_eurostat_cells (
	series_id INTEGER NOT NULL,
	period_id USMALLINT NOT NULL,
	line INTEGER,               -- NULL when it is the series' line
	value DOUBLE,               -- NULL for ':'
	flag_id USMALLINT NOT NULL
)`,
	`CREATE TABLE raw_eurostat_periods (
	period_id USMALLINT NOT NULL,
	period VARCHAR NOT NULL,    -- 2023, 2023-05 or 2023-Q2
	freq VARCHAR NOT NULL,      -- A, M or Q
	year INTEGER NOT NULL,
	month INTEGER               -- NULL for annual and quarterly periods
)`,
	`CREATE TABLE raw_eurostat_flags (
	flag_id USMALLINT NOT NULL,
	flags VARCHAR NOT NULL      -- as published, '' for none
)`,
	`CREATE VIEW raw_eurostat_asylum AS
SELECT s.dataset, s.file, coalesce(c.line, s.line) AS line, s.format, p.freq, s.unit, s.citizen,
       s.sex, s.age, s.applicant, s.decision, s.geo, s.coding, p.period, c.value, f.flags
FROM raw_eurostat_cells c
JOIN raw_eurostat_series s USING (series_id)
JOIN raw_eurostat_periods p USING (period_id)
JOIN raw_eurostat_flags f USING (flag_id)`,
}

// Formats, as written to the format column.
const (
	eurostatFormatSDMX   = "sdmx_csv"
	eurostatFormatTSV    = "tsv"
	eurostatFormatAppsso = "appsso_csv"
)

// Errors a Eurostat file can carry; a *LocatedError wraps one of
// them, so callers can tell the kinds apart with errors.Is.
var (
	// ErrEurostatUnknownFlag marks an observation flag letter that is not
	// in Eurostat's code list (old or new codes).
	ErrEurostatUnknownFlag = errors.New("unknown observation flag")
	// ErrEurostatUnknownLabel marks a code or label of a small dimension
	// (unit, sex, age, applicant, decision, freq) that the code list
	// (eurostat_codes.csv) does not hold; add it there only after checking
	// what it means.
	ErrEurostatUnknownLabel = errors.New("unknown code or label")
	// ErrEurostatRagged marks a row whose number of fields differs from
	// the header's.
	ErrEurostatRagged = errors.New("row has a different number of fields than the header")
	// ErrEurostatEncoding marks text that is not valid UTF-8.
	ErrEurostatEncoding = errors.New("text is not valid UTF-8")
	// ErrEurostatValue marks a cell that is neither a number nor ':'.
	ErrEurostatValue = errors.New("not a number or ':'")
	// ErrEurostatDuplicate marks a series a TSV file publishes twice.
	ErrEurostatDuplicate = errors.New("duplicate series")
	// ErrEurostatHeader marks a header the source cannot read.
	ErrEurostatHeader = errors.New("unexpected header")
	// ErrEurostatEmpty marks a file with a header and no data row: a
	// query whose filters matched nothing, or a download cut short.
	ErrEurostatEmpty = errors.New("no data rows below the header: was the download cut short, or did its filters match nothing?")
	// ErrEurostatCodeCase marks a citizen or geo code (or label) that a
	// file also spells in another case: both would map to one country,
	// and one series would silently supersede the other.
	ErrEurostatCodeCase = errors.New("code differs only in case from another in the file")
)

// NewEurostat returns the source for Eurostat asylum statistics
// (migr_asyappctza, migr_asyappctzm, migr_asydcfsta and relatives) in the
// three forms researchers hold them: SDMX-CSV, the API/bulk TSV (plain or
// gzip) and the legacy labelled "appsso" CSV export. Every file lands in
// the one table raw_eurostat_asylum, one row per published cell.
func NewEurostat(cfg EurostatConfig) Source {
	return &eurostatSource{cfg: cfg}
}

type eurostatSource struct {
	cfg EurostatConfig
}

// Name implements Source.
func (s *eurostatSource) Name() string { return "eurostat_asylum" }

// Inputs implements Source: the two code lists, then the data files.
// Directories expand to their data files in name order; an empty directory
// or a missing path is an error, so that a misconfigured run does not
// publish silently without Eurostat data.
func (s *eurostatSource) Inputs(ctx context.Context) ([]Input, error) {
	lists, err := s.codeListInputs()
	if err != nil {
		return nil, err
	}
	data, err := s.dataInputs(ctx)
	if err != nil {
		return nil, err
	}
	return append(lists, data...), nil
}

// codeListInputs returns the code list files, which must exist.
func (s *eurostatSource) codeListInputs() ([]Input, error) {
	if s.cfg.CodeLists == "" {
		return nil, errors.New("eurostat_asylum: no code_lists directory configured (the directory of eurostat_codes.csv and eurostat_flags.csv)")
	}
	var out []Input
	for _, name := range []string{EurostatCodesFile, EurostatFlagsFile} {
		p := filepath.Join(s.cfg.CodeLists, name)
		if err := checkFileName(p); err != nil {
			return nil, fmt.Errorf("eurostat_asylum: code list: %w", err)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("eurostat_asylum: code list: %w", err)
		}
		out = append(out, Input{Path: p})
	}
	return out, nil
}

// dataInputs returns the data files.
func (s *eurostatSource) dataInputs(ctx context.Context) ([]Input, error) {
	if len(s.cfg.Paths) == 0 {
		return nil, errors.New("eurostat_asylum: no paths configured")
	}
	var out []Input
	seen := map[string]bool{}
	for _, p := range s.cfg.Paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("eurostat_asylum: %w", err)
		}
		var files []string
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("eurostat_asylum: %w", err)
			}
			for _, e := range entries {
				if e.Type().IsRegular() && hasTextSuffix(e.Name(), ".csv", ".tsv") {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("eurostat_asylum: directory %s holds no *.csv, *.tsv, *.csv.gz or *.tsv.gz file", p)
			}
			sort.Strings(files)
		} else {
			files = []string{p}
		}
		for _, f := range files {
			if err := checkFileName(f); err != nil {
				return nil, fmt.Errorf("eurostat_asylum: %w", err)
			}
			if seen[f] {
				return nil, fmt.Errorf("eurostat_asylum: %s is configured twice", f)
			}
			seen[f] = true
			out = append(out, Input{Path: f})
		}
	}
	return out, nil
}

// Load implements Source: it reads and checks the code lists, writes them
// to ref_eurostat_codes and ref_eurostat_flags, drops and creates the raw
// tables and loads every data file into them, one INSERT of cells per file.
func (s *eurostatSource) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	if _, err := s.codeListInputs(); err != nil {
		return st, err
	}
	inputs, err := s.dataInputs(ctx)
	if err != nil {
		return st, err
	}
	codes, err := readEurostatCodeLists(s.cfg.CodeLists, s.cfg.Limits)
	if err != nil {
		return st, fmt.Errorf("eurostat_asylum: %w", err)
	}
	nCodes, nFlags, err := writeEurostatCodeLists(ctx, conn, codes)
	if err != nil {
		return st, err
	}
	st.add("ref_eurostat_codes", nCodes)
	st.add("ref_eurostat_flags", nFlags)
	if err := createEurostatTables(ctx, conn); err != nil {
		return st, err
	}
	restore, err := eurostatUnorderedInserts(ctx, conn)
	if err != nil {
		return st, err
	}
	defer restore()
	store := &eurostatStore{}
	st.add(eurostatCellsTable, 0)
	st.add(eurostatSeriesTable, 0)
	for _, in := range inputs {
		cells, series, err := loadEurostatFile(ctx, conn, store, codes, in.Path, s.cfg.Limits)
		if err != nil {
			return st, err
		}
		st.add(eurostatCellsTable, cells)
		st.add(eurostatSeriesTable, series)
	}
	periods, flags, err := insertEurostatCodes(ctx, conn, store)
	if err != nil {
		return st, err
	}
	st.add(eurostatPeriodsTable, periods)
	st.add(eurostatFlagsTable, flags)
	return st, nil
}

// insertEurostatCodes writes the numbered periods and flag strings.
func insertEurostatCodes(ctx context.Context, conn *sql.Conn, store *eurostatStore) (periods, flags int64, err error) {
	periods, err = appendRows(ctx, conn, eurostatPeriodsTable, func(add func(vals ...driver.Value) error) error {
		for i, p := range store.dicts[esPeriod].values {
			freq, year, m := eurostatPeriodParts(p)
			month := any(nil)
			if m > 0 {
				month = int32(m)
			}
			if err := add(uint16(i), p, string(freq), int32(year), month); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	flags, err = appendRows(ctx, conn, eurostatFlagsTable, func(add func(vals ...driver.Value) error) error {
		for i, f := range store.dicts[esFlags].values {
			if err := add(uint16(i), f); err != nil {
				return err
			}
		}
		return nil
	})
	return periods, flags, err
}

// eurostatUnorderedInserts lets DuckDB insert with all its threads instead
// of keeping the batches in scan order (preserve_insertion_order): the row
// order of the raw table carries no meaning, file and line locate every
// cell. In DuckDB 1.1 the ordered batch insert made the load of the big
// monthly file two to four times slower. The returned function restores
// the caller's setting.
func eurostatUnorderedInserts(ctx context.Context, conn *sql.Conn) (func(), error) {
	var prev bool
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('preserve_insertion_order')").Scan(&prev); err != nil {
		return nil, fmt.Errorf("read preserve_insertion_order: %w", err)
	}
	if !prev {
		return func() {}, nil
	}
	if _, err := conn.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return nil, fmt.Errorf("set preserve_insertion_order: %w", err)
	}
	return func() {
		// Restore even when ctx is cancelled; a failure here leaves
		// only a performance setting behind.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SET preserve_insertion_order = true")
	}, nil
}

func createEurostatTables(ctx context.Context, conn *sql.Conn) error {
	drops := []string{"DROP VIEW IF EXISTS " + eurostatView}
	for _, t := range []string{eurostatSeriesTable, eurostatCellsTable, eurostatPeriodsTable, eurostatFlagsTable} {
		drops = append(drops, "DROP TABLE IF EXISTS "+t)
	}
	for _, q := range append(drops, eurostatDDL...) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("eurostat_asylum raw tables: %w", err)
		}
	}
	return nil
}

// eurostatFileMeta is what a parser knows about the file before its rows.
type eurostatFileMeta struct {
	path    string // as configured, written to the file column
	dataset string // lower case; from the file name, SDMX overrides it
	format  string
	coding  string // "code" or "label"
	codes   *eurostatCodeLists
	limits  Limits
}

// eurostatDetect reads the first line to tell the format.
func eurostatDetect(path string, br *bufio.Reader) (string, error) {
	head, err := br.Peek(64 << 10)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return "", &LocatedError{File: path, Line: 1, Err: err}
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimRight(head, "\r")
	upper := strings.ToUpper(string(head))
	switch {
	case strings.HasPrefix(upper, "DATAFLOW,") || strings.HasPrefix(upper, "STRUCTURE,"):
		return eurostatFormatSDMX, nil
	case strings.HasPrefix(upper, `"TIME",`) || strings.HasPrefix(upper, "TIME,"):
		return eurostatFormatAppsso, nil
	case bytes.IndexByte(head, '\t') > 0 && bytes.IndexByte(head[:bytes.IndexByte(head, '\t')], '\\') > 0:
		return eurostatFormatTSV, nil
	case len(head) == 0:
		return "", &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: the file is empty", ErrEurostatHeader)}
	}
	return "", &LocatedError{File: path, Line: 1, Value: string(head),
		Err: fmt.Errorf("%w: not SDMX-CSV (DATAFLOW,...), API TSV (dims\\TIME_PERIOD<TAB>...) or appsso CSV (\"TIME\",\"GEO\",...)", ErrEurostatHeader)}
}

// eurostatDatasetRe finds the dataset id in a file name.
var eurostatDatasetRe = regexp.MustCompile(`(?i)migr_[a-z]+`)

func eurostatDatasetFromName(path string) string {
	return strings.ToLower(eurostatDatasetRe.FindString(filepath.Base(path)))
}

// loadEurostatFile parses one file and inserts its cells and series. A file
// without data rows, or that spells a citizen or geo code in two cases, is
// an error.
func loadEurostatFile(ctx context.Context, conn *sql.Conn, store *eurostatStore, codes *eurostatCodeLists, path string, limits Limits) (cells, series int64, err error) {
	br, closer, err := openText(path, limits)
	if err != nil {
		return 0, 0, err
	}
	defer closer.Close()
	format, err := eurostatDetect(path, br)
	if err != nil {
		return 0, 0, err
	}
	meta := eurostatFileMeta{path: path, dataset: eurostatDatasetFromName(path), format: format, coding: "code", codes: codes, limits: limits}
	if format != eurostatFormatSDMX && meta.dataset == "" {
		return 0, 0, &LocatedError{File: path, Err: errors.New("cannot tell the dataset: put its id (e.g. migr_asyappctza) in the file name")}
	}
	var parse func(ctx context.Context, b *eurostatBatcher) error
	switch format {
	case eurostatFormatTSV:
		parse = func(ctx context.Context, b *eurostatBatcher) error {
			return parseEurostatTSV(ctx, br, &meta, b)
		}
	case eurostatFormatSDMX:
		// The dataset comes from the DATAFLOW column: read the first
		// record before the insert needs it.
		ds, err := sniffSDMXDataset(path, br)
		if err != nil {
			return 0, 0, err
		}
		meta.dataset = ds
		parse = func(ctx context.Context, b *eurostatBatcher) error {
			return parseEurostatSDMX(ctx, br, &meta, b)
		}
	case eurostatFormatAppsso:
		meta.coding = "label"
		utf8OK, err := eurostatValidUTF8(ctx, path, limits)
		if err != nil {
			return 0, 0, err
		}
		parse = func(ctx context.Context, b *eurostatBatcher) error {
			return parseEurostatAppsso(ctx, br, utf8OK, &meta, b)
		}
	}
	cells, series, err = insertEurostat(ctx, conn, store, &meta, parse)
	if err != nil {
		return 0, 0, err
	}
	if cells == 0 {
		return 0, 0, &LocatedError{File: path, Err: ErrEurostatEmpty}
	}
	if err := checkEurostatCodeCase(ctx, conn, path); err != nil {
		return 0, 0, err
	}
	return cells, series, nil
}

// eurostatCodeCaseQuery tells, in one hash aggregate over the series of
// one file, whether a citizen or geo code is spelled in two cases.
const eurostatCodeCaseQuery = `
SELECT 1 FROM (
    SELECT citizen, geo FROM raw_eurostat_series WHERE file = $1
    GROUP BY GROUPING SETS ((citizen), (geo)))
GROUP BY upper(citizen), upper(geo)
HAVING count(*) > 1
LIMIT 1`

// eurostatCodeCaseAtQuery finds, in the series of one file, the first
// citizen or geo spelling that differs only in case from an earlier one,
// with the line where each is first seen.
const eurostatCodeCaseAtQuery = `
SELECT dim, v, line, prev, prev_line FROM (
    SELECT dim, v, line,
           lag(v) OVER w AS prev, lag(line) OVER w AS prev_line
    FROM (
        SELECT dim, v, min(line) AS line
        FROM (UNPIVOT (SELECT line, citizen, geo FROM raw_eurostat_series WHERE file = $1)
              ON citizen, geo INTO NAME dim VALUE v)
        GROUP BY dim, v)
    WINDOW w AS (PARTITION BY dim, upper(v) ORDER BY line))
WHERE prev IS NOT NULL
ORDER BY line, dim
LIMIT 1`

// checkEurostatCodeCase refuses a file that spells a citizen or geo code
// in two cases ("AF" and "af", "Bulgaria" and "BULGARIA"): the country
// mapping reads them as one, and one of the two series would supersede the
// other without a word.
func checkEurostatCodeCase(ctx context.Context, conn *sql.Conn, path string) error {
	var one int
	err := conn.QueryRowContext(ctx, eurostatCodeCaseQuery, path).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	var dim, v, prev string
	var line, prevLine int64
	if err == nil {
		err = conn.QueryRowContext(ctx, eurostatCodeCaseAtQuery, path).Scan(&dim, &v, &line, &prev, &prevLine)
	}
	if err != nil {
		return fmt.Errorf("eurostat_asylum: check the codes of %s: %w", path, err)
	}
	return &LocatedError{File: path, Line: line, Column: dim, Value: v,
		Err: fmt.Errorf("%w: %q on line %d; write each code one way", ErrEurostatCodeCase, prev, prevLine)}
}

// eurostatValidUTF8 reports whether the whole (decompressed) file is valid
// UTF-8; the legacy appsso exports are Windows-1252 when they are not.
func eurostatValidUTF8(ctx context.Context, path string, limits Limits) (bool, error) {
	br, closer, err := openText(path, limits)
	if err != nil {
		return false, err
	}
	defer closer.Close()
	lr := eurostatLineReader{r: br}
	for {
		b, err := lr.next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, &LocatedError{File: path, Line: lr.line, Err: err}
		}
		if lr.line%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		if !utf8.Valid(b) {
			return false, nil
		}
	}
}

// eurostatLineReader hands out lines without their end of line, reusing
// its buffers: the returned slice is valid until the next call.
type eurostatLineReader struct {
	r    *bufio.Reader
	long []byte // holds a line longer than the reader's buffer
	line int64  // 1-based number of the line last returned
	// partial holds what was read of a line when reading failed, so
	// that the error can name the column where the data stops.
	partial []byte
}

// next returns the next line without "\n" or "\r\n". At the end it
// returns io.EOF; a last line without "\n" is returned first.
func (lr *eurostatLineReader) next() ([]byte, error) {
	b, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.long = append(lr.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = lr.r.ReadSlice('\n')
			lr.long = append(lr.long, b...)
		}
		b = lr.long
	}
	if err != nil && err != io.EOF {
		lr.partial = append(lr.partial[:0], b...)
		return nil, err
	}
	if err == io.EOF && len(b) == 0 {
		return nil, io.EOF
	}
	lr.line++
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, nil
}
