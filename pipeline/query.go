package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// querySettings are the DuckDB settings of the database that Query opens:
// read-only, no access to files or the network beyond the database itself,
// no extension installed or loaded on demand, and the configuration locked
// so that a statement cannot undo any of this.
var querySettings = [][2]string{
	{"access_mode", "READ_ONLY"},
	{"enable_external_access", "false"},
	{"autoinstall_known_extensions", "false"},
	{"autoload_known_extensions", "false"},
	{"lock_configuration", "true"},
}

// ErrNotSelect is returned by Query for a statement that is not one SELECT
// (or WITH ... SELECT, FROM ..., VALUES ...): the query command can only
// read the published data.
var ErrNotSelect = errors.New("only one SELECT statement is allowed (the query command is read-only)")

// Query runs one SELECT statement on the published database and streams
// its result: header receives the column names once, then row receives each
// row (the slice is reused between calls). It returns the number of rows.
//
// The database is opened read-only with external access, extension
// installation and autoloading disabled and the configuration locked, and
// the statement is parsed by DuckDB first: anything but exactly one SELECT
// (COPY, EXPORT, ATTACH, SET, PRAGMA, CALL, INSTALL, LOAD, several
// statements) is refused with an error that wraps ErrNotSelect. Errors from
// header or row are returned as they are.
func Query(ctx context.Context, cfg Config, stmt string, header func(cols []string) error, row func(vals []any) error) (int64, error) {
	if _, err := os.Stat(cfg.Database); errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("database %s does not exist yet: run `visastats run` first", cfg.Database)
	}
	q := url.Values{}
	for _, s := range querySettings {
		q.Set(s[0], s[1])
	}
	db, err := openDSN(cfg.Database, cfg.Database+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("open database %s: %w", cfg.Database, err)
	}
	defer conn.Close()

	// json_serialize_sql parses with DuckDB's own parser and serialises
	// SELECT statements only, so it tells a SELECT from everything else
	// and counts the statements without running any of them.
	var parsed string
	if err := conn.QueryRowContext(ctx, `SELECT json_serialize_sql(?::VARCHAR)`, stmt).Scan(&parsed); err != nil {
		return 0, fmt.Errorf("parse query: %w", err)
	}
	var p struct {
		Error      bool              `json:"error"`
		ErrorType  string            `json:"error_type"`
		Message    string            `json:"error_message"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(parsed), &p); err != nil {
		return 0, fmt.Errorf("parse query: %w", err)
	}
	switch {
	case p.Error && p.ErrorType == "not implemented":
		return 0, fmt.Errorf("refused %q: %w", firstWord(stmt), ErrNotSelect)
	case p.Error:
		return 0, fmt.Errorf("parse query: %s", p.Message)
	case len(p.Statements) != 1:
		return 0, fmt.Errorf("refused %d statements: %w", len(p.Statements), ErrNotSelect)
	}

	rows, err := conn.QueryContext(ctx, stmt)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	if err := header(cols); err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := row(vals); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// firstWord returns the first word of a statement, upper-cased, to name
// what was refused.
func firstWord(stmt string) string {
	f := strings.Fields(stmt)
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(strings.TrimRight(f[0], ";("))
}
