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
	"sort"
	"strings"
)

// ReferenceConfig locates the project's curated reference tables.
type ReferenceConfig struct {
	// Dir holds countries.csv (code,iso3,name,kind), one or more
	// country_aliases_*.csv files (scheme,alias,code, optionally note) and
	// the ISO 3166 name lists iso3166_*.csv (code,name,kind, optionally
	// note).
	Dir string `mapstructure:"dir"`
}

// Reference loads the country reference: the codes visastats uses (ISO
// 3166-1 alpha-2, XK, Eurostat aggregates), every published spelling of
// them per naming scheme, and the ISO 3166 names (current, official, common,
// withdrawn and former) from which the SQL transforms derive the spellings
// that no alias file lists. It is data, not code: a new spelling is a line in
// a CSV file.
type Reference struct {
	cfg ReferenceConfig
}

// NewReference returns the country reference source.
func NewReference(cfg ReferenceConfig) *Reference { return &Reference{cfg: cfg} }

// Name implements Source.
func (r *Reference) Name() string { return "reference" }

// refFiles are the reference files by role.
type refFiles struct {
	countries string
	aliases   []string
	names     []string
}

func (r *Reference) files() (refFiles, error) {
	rf := refFiles{countries: filepath.Join(r.cfg.Dir, "countries.csv")}
	if _, err := os.Stat(rf.countries); err != nil {
		return rf, fmt.Errorf("reference: %w", err)
	}
	for _, g := range []struct {
		pattern string
		dst     *[]string
	}{{"country_aliases_*.csv", &rf.aliases}, {"iso3166_*.csv", &rf.names}} {
		m, err := filepath.Glob(filepath.Join(r.cfg.Dir, g.pattern))
		if err != nil {
			return rf, fmt.Errorf("reference: %w", err)
		}
		if len(m) == 0 {
			return rf, fmt.Errorf("reference: no %s in %s", g.pattern, r.cfg.Dir)
		}
		sort.Strings(m)
		*g.dst = m
	}
	return rf, nil
}

// Inputs implements Source.
func (r *Reference) Inputs(ctx context.Context) ([]Input, error) {
	rf, err := r.files()
	if err != nil {
		return nil, err
	}
	out := []Input{{Path: rf.countries}}
	for _, p := range append(append([]string{}, rf.aliases...), rf.names...) {
		out = append(out, Input{Path: p})
	}
	return out, nil
}

// Load implements Source: it writes ref_countries, ref_country_aliases and
// ref_country_names.
func (r *Reference) Load(ctx context.Context, conn *sql.Conn) (Stats, error) {
	var st Stats
	rf, err := r.files()
	if err != nil {
		return st, err
	}
	ddl := []string{
		`CREATE OR REPLACE TABLE ref_countries (code VARCHAR PRIMARY KEY, iso3 VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL)`,
		`CREATE OR REPLACE TABLE ref_country_aliases (scheme VARCHAR NOT NULL, alias VARCHAR NOT NULL, code VARCHAR NOT NULL, note VARCHAR, file VARCHAR NOT NULL, line INTEGER NOT NULL)`,
		`CREATE OR REPLACE TABLE ref_country_names (code VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, file VARCHAR NOT NULL, line INTEGER NOT NULL)`,
	}
	for _, q := range ddl {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return st, fmt.Errorf("create reference tables: %w", err)
		}
	}
	n, err := appendRows(ctx, conn, "ref_countries", func(add func(...driver.Value) error) error {
		return readRefCSV(rf.countries, []string{"code", "iso3", "name", "kind"}, func(line int, rec []string) error {
			switch rec[3] {
			case "country", "aggregate", "special":
			default:
				return &LocatedError{File: rf.countries, Line: int64(line), Column: "kind", Value: rec[3], Err: errors.New("expected country, aggregate or special")}
			}
			return add(rec[0], rec[1], rec[2], rec[3])
		})
	})
	if err != nil {
		return st, err
	}
	st.add("ref_countries", n)
	n, err = appendRows(ctx, conn, "ref_country_aliases", func(add func(...driver.Value) error) error {
		for _, path := range rf.aliases {
			// note says why a spelling means its code: NULL in a file
			// without the column, and required (by the check
			// alias_targets_known) in a file with it where a line decides
			// what the ISO names leave open.
			err := readRefTable(path, []string{"scheme", "alias", "code"}, []string{"note"}, func(line int, rec []string) error {
				var note driver.Value
				if len(rec) > 3 {
					note = rec[3]
				}
				return add(rec[0], rec[1], rec[2], note, path, int32(line))
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.add("ref_country_aliases", n)
	n, err = appendRows(ctx, conn, "ref_country_names", func(add func(...driver.Value) error) error {
		for _, path := range rf.names {
			err := readRefTable(path, []string{"code", "name", "kind"}, []string{"note"}, func(line int, rec []string) error {
				switch rec[2] {
				case "iso_name", "official_name", "common_name", "withdrawn", "former_name":
				default:
					return &LocatedError{File: path, Line: int64(line), Column: "kind", Value: rec[2], Err: errors.New("expected iso_name, official_name, common_name, withdrawn or former_name")}
				}
				return add(rec[0], rec[1], rec[2], path, int32(line))
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	st.add("ref_country_names", n)
	return st, nil
}

// readRefCSV reads a reference CSV whose header starts with the given
// columns (extra trailing columns such as a note are allowed) and calls fn
// with each record's first len(header) fields, none of which may be empty.
func readRefCSV(path string, header []string, fn func(line int, rec []string) error) error {
	return readRefTable(path, header, nil, fn)
}

// readRefTable is readRefCSV with optional columns. With optional nil it
// reads as readRefCSV says. Otherwise the header is the required columns
// followed by the first few optional ones (none, some or all) and nothing
// else, every line has as many fields as the header (a value holding a
// comma must be quoted), and fn gets the required fields, none empty, then
// the optional fields the file has, which may be empty.
func readRefTable(path string, header, optional []string, fn func(line int, rec []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	// Curated files are small: the default limits bound a line and a
	// record (a quote that never closes) all the same.
	r := csv.NewReader(newRecordLimitReader(newLineLimitReader(f, Limits{}), path, 1, Limits{}))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("read %s: header: %w", path, err)
	}
	if len(head) < len(header) || strings.Join(head[:len(header)], ",") != strings.Join(header, ",") {
		return &LocatedError{File: path, Line: 1, Value: strings.Join(head, ","), Err: fmt.Errorf("expected the header to start with %s", strings.Join(header, ","))}
	}
	if optional != nil {
		for i, name := range head[len(header):] {
			if i >= len(optional) || name != optional[i] {
				return &LocatedError{File: path, Line: 1, Column: fieldNumber(len(header) + i + 1), Value: name,
					Err: fmt.Errorf("expected the header %s, optionally followed by %s", strings.Join(header, ","), strings.Join(optional, ","))}
			}
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		want := len(header)
		if optional != nil {
			want = len(head)
		}
		if len(rec) < want || optional != nil && len(rec) > want {
			return &LocatedError{File: path, Line: int64(line),
				Err: fmt.Errorf("expected %d fields, got %d (quote a value that holds a comma)", want, len(rec))}
		}
		for i, name := range header {
			// iso3 is empty for aggregates; an empty alias is the spelling
			// of "no code given" (UNHCR's empty ISO code for unknown).
			if name != "iso3" && name != "alias" && strings.TrimSpace(rec[i]) == "" {
				return &LocatedError{File: path, Line: int64(line), Column: name, Err: errors.New("empty value")}
			}
		}
		if optional == nil {
			rec = rec[:len(header)]
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}
