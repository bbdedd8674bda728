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
	"strings"
	"time"
	"unicode/utf8"
)

const ruMFATable = "raw_ru_mfa_published"

const ruMFADDL = `
DROP TABLE IF EXISTS raw_ru_mfa_published;
CREATE TABLE raw_ru_mfa_published (
  file VARCHAR, line BIGINT,
  indicator VARCHAR, issuer VARCHAR, recipient VARCHAR,
  year INTEGER, value DOUBLE, unit VARCHAR, precision VARCHAR,
  source_publisher VARCHAR, source_title VARCHAR, source_url VARCHAR,
  published DATE, note VARCHAR
);
`

// ruMFAHeader is the exact header of the curated file.
const ruMFAHeader = "indicator,issuer,recipient,year,value,unit,precision,source_publisher,source_title,source_url,published,note"

// RUMFAConfig configures the ru_mfa_published source.
type RUMFAConfig struct {
	// Path is the curated CSV of figures published by the Russian Ministry
	// of Foreign Affairs, such as data/curated/ru_mfa_visas_published.csv.
	Path string `mapstructure:"path"`
	// Limits bound what is read from each file; set from the top-level
	// limits configuration, zero means the defaults.
	Limits Limits `mapstructure:"-"`
}

type ruMFASource struct {
	cfg RUMFAConfig
}

// NewRUMFA returns the ru_mfa_published source: visa figures announced by
// the Russian Ministry of Foreign Affairs, which publishes no machine-
// readable data, curated one number a row with its citation.
func NewRUMFA(cfg RUMFAConfig) Source { return &ruMFASource{cfg: cfg} }

// Name implements Source.
func (s *ruMFASource) Name() string { return "ru_mfa_published" }

// Inputs implements Source.
func (s *ruMFASource) Inputs(ctx context.Context) ([]Input, error) {
	if s.cfg.Path == "" {
		return nil, errors.New("ru_mfa_published: path is empty; set it to the curated CSV")
	}
	if err := checkFileName(s.cfg.Path); err != nil {
		return nil, fmt.Errorf("ru_mfa_published: %w", err)
	}
	if _, err := os.Stat(s.cfg.Path); err != nil {
		return nil, fmt.Errorf("ru_mfa_published: %w", err)
	}
	return []Input{{Path: s.cfg.Path}}, nil
}

// Load implements Source. It recreates raw_ru_mfa_published from the
// curated CSV. A row with a non-integer year, a negative or non-numeric
// value, an unknown indicator, a missing citation or a malformed date stops
// the load with a *LocatedError naming file, line, column and value.
func (s *ruMFASource) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	inputs, err := s.Inputs(ctx)
	if err != nil {
		return st, err
	}
	path := inputs[0].Path
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("ru_mfa_published: %w", err)
	}
	defer f.Close()
	r, err := newRUMFAReader(newLineLimitReader(f, s.cfg.Limits), path, s.cfg.Limits)
	if err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, ruMFADDL); err != nil {
		return st, fmt.Errorf("ru_mfa_published: create %s: %w", ruMFATable, err)
	}
	n, err := appendRows(ctx, conn, ruMFATable, func(add func(vals ...driver.Value) error) error {
		for {
			row, err := r.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := add(row...); err != nil {
				return fmt.Errorf("ru_mfa_published: %s line %d: %w", path, row[1], err)
			}
		}
	})
	st.add(ruMFATable, n)
	return st, err
}

// ruMFAReader reads and validates the rows of the curated CSV.
type ruMFAReader struct {
	file   string
	cr     *csv.Reader
	header []string
}

func newRUMFAReader(r io.Reader, file string, limits Limits) (*ruMFAReader, error) {
	cr := csv.NewReader(newRecordLimitReader(r, file, 1, limits))
	cr.FieldsPerRecord = -1 // checked in next, to name the column
	header, err := cr.Read()
	if err != nil {
		return nil, ruMFACSVError(file, err)
	}
	got := strings.TrimPrefix(strings.Join(header, ","), "\uFEFF")
	if got != ruMFAHeader {
		return nil, &LocatedError{File: file, Line: 1, Column: "header", Value: got, Err: fmt.Errorf("want exactly %q", ruMFAHeader)}
	}
	return &ruMFAReader{file: file, cr: cr, header: strings.Split(ruMFAHeader, ",")}, nil
}

func ruMFACSVError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LocatedError{File: file, Line: int64(pe.Line), Column: fmt.Sprintf("byte %d", pe.Column), Err: pe.Err}
	}
	if errors.Is(err, io.EOF) {
		return &LocatedError{File: file, Line: 1, Column: "header", Err: errors.New("file is empty")}
	}
	var le *LocatedError
	if errors.As(err, &le) {
		return err // over a limit, located already
	}
	return fmt.Errorf("ru_mfa_published: read %s: %w", file, err)
}

// next returns the next row as raw table values, or io.EOF after the last.
func (r *ruMFAReader) next() ([]driver.Value, error) {
	rec, err := r.cr.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, ruMFACSVError(r.file, err)
	}
	l, _ := r.cr.FieldPos(0)
	line := int64(l)
	if len(rec) != len(r.header) {
		col := "after note"
		if len(rec) < len(r.header) {
			col = r.header[len(rec)]
		}
		return nil, &LocatedError{File: r.file, Line: line, Column: col, Value: strings.Join(rec, ","),
			Err: fmt.Errorf("record has %d fields, header has %d", len(rec), len(r.header))}
	}
	fail := func(i int, err error) error {
		return &LocatedError{File: r.file, Line: line, Column: r.header[i], Value: rec[i], Err: err}
	}
	row := []driver.Value{r.file, line}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return nil, fail(i, errors.New("invalid UTF-8; save the file as UTF-8"))
		}
		var val driver.Value = v
		switch r.header[i] {
		case "indicator":
			if v != "visas_issued" && v != "e_visas_issued" {
				return nil, fail(i, errors.New("want visas_issued or e_visas_issued"))
			}
		case "issuer", "recipient", "unit", "source_publisher", "source_title":
			if strings.TrimSpace(v) == "" {
				return nil, fail(i, errors.New("must not be empty: every figure needs its issuer, recipient, unit and citation"))
			}
		case "year":
			y, err := parseYear(v)
			if err != nil {
				return nil, fail(i, err)
			}
			val = int32(y)
		case "value":
			f, ok := parsePublishedNumber([]byte(v), false)
			if !ok {
				return nil, fail(i, errors.New("not a number (write 846000, without separators)"))
			}
			if !plausibleCount(f) {
				return nil, fail(i, ErrImplausibleCount)
			}
			val = f
		case "published":
			if v == "" {
				val = nil
				break
			}
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, fail(i, errors.New("not a date in the form 2024-02-02"))
			}
			val = d
		}
		row = append(row, val)
	}
	return row, nil
}
