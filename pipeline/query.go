package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNotSelect is returned by Query for a statement that is not one SELECT
// (or WITH ... SELECT, FROM ..., VALUES ...): the query command can only
// read the published data.
var ErrNotSelect = errors.New("only one SELECT statement is allowed (the query command is read-only)")

// queryResult is the temporary table that holds a query's result while
// Query hands it out in slices.
const queryResult = "visastats_query_result"

// querySliceBytes is about how many bytes of a result one slice reads:
// go-duckdb materialises each query's whole result in memory, outside
// DuckDB's memory limit.
const querySliceBytes = 8 << 20

// Query runs one SELECT statement on the published database and streams
// its result: header receives the column names once, then row receives each
// row (the slice is reused between calls). It returns the number of rows.
//
// The database is attached read-only; access to other files and the
// network, extension installation and autoloading are off and the
// configuration is locked, each read back before the statement runs
// (openDatabase). DuckDB works within duckdb.memory_limit and spills beyond
// it to a private folder under the system's temporary folder (TMPDIR),
// removed on return; ctx bounds the time (the query command gives it
// duckdb.query_timeout). A database with a write-ahead log beside it is
// refused: DuckDB would replay that log, written by another program, onto
// the published data.
//
// The statement is parsed by DuckDB first: anything but exactly one
// SELECT (COPY, EXPORT, ATTACH, SET, PRAGMA, CALL, INSTALL, LOAD, several
// statements) is refused with an error that wraps ErrNotSelect. Its result
// is stored in a temporary table, which spills like any table, and read
// back in slices of about querySliceBytes, so memory stays bounded however
// many rows it has. Errors from header or row are returned as they are,
// and stop the query.
func Query(ctx context.Context, cfg Config, stmt string, header func(cols []string) error, row func(vals []any) error) (int64, error) {
	path, err := servedDatabase(cfg.Database)
	if err != nil {
		return 0, err
	}
	spill, err := os.MkdirTemp("", "visastats-query-")
	if err != nil {
		return 0, fmt.Errorf("query: spill folder: %w", err)
	}
	defer os.RemoveAll(spill)
	db, err := openDatabase(path, duckOptions{readOnly: true, sandbox: true,
		memoryLimit: cfg.DuckDB.memoryLimit(), threads: cfg.DuckDB.Threads, tempDir: spill})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("open database %s: %w", path, err)
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

	// The statement is the user's SQL by design, and DuckDB's parser has
	// just found it to be one SELECT: prefixed, it is one DESCRIBE, or one
	// CREATE TABLE of that SELECT's result, in a session that can read
	// nothing but the database.
	cols, err := describe(ctx, conn, stmt)
	if err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+queryResult+" AS "+stmt); err != nil {
		return 0, err
	}
	// A column the statement names rowid would hide the row number the
	// slices are cut by; the header keeps the statement's names.
	var hiding int64
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND lower(column_name) = 'rowid'`, queryResult).Scan(&hiding); err != nil {
		return 0, err
	}
	if hiding > 0 {
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+queryResult+" RENAME COLUMN rowid TO visastats_rowid_column"); err != nil {
			return 0, err
		}
	}
	var total int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+queryResult).Scan(&total); err != nil {
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
	for lo, size := int64(0), int64(1024); lo < total; {
		rows, err := conn.QueryContext(ctx, "SELECT * FROM "+queryResult+" WHERE rowid >= ? AND rowid < ?", lo, lo+size)
		if err != nil {
			return n, err
		}
		var bytes int64
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return n, err
			}
			if err := row(vals); err != nil {
				rows.Close()
				return n, err
			}
			bytes += rowBytes(vals)
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return n, err
		}
		if n < min(lo+size, total) {
			return n, fmt.Errorf("query: rows %d to %d of the result are missing", n, min(lo+size, total))
		}
		lo += size
		// The next slice: about querySliceBytes, at least a row, at most
		// eight times this one.
		size = max(1, min(8*size, querySliceBytes*size/max(bytes, 1)))
	}
	return n, nil
}

// describe returns the column names of the statement's result, as the
// statement names them (a table made from it renames duplicates).
func describe(ctx context.Context, conn *sql.Conn, stmt string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "DESCRIBE "+stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(fields))
	for i := range vals {
		vals[i] = new(any)
	}
	var cols []string
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		name, _ := (*vals[0].(*any)).(string)
		cols = append(cols, name)
	}
	return cols, rows.Err()
}

// rowBytes is about how many bytes a row takes in a materialised result.
func rowBytes(vals []any) int64 {
	var b int64
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			b += int64(len(x)) + 16
		case []byte:
			b += int64(len(x)) + 16
		default:
			b += 16
		}
	}
	return b
}

// servedDatabase returns the file the configured database names (a link
// resolved), refusing one that does not exist, whose path DuckDB cannot
// open safely, or which has a write-ahead log beside it.
func servedDatabase(configured string) (string, error) {
	if strings.Contains(configured, "?") {
		return "", fmt.Errorf("database %s: %w", configured, errPathQuestionMark)
	}
	path, err := resolveDatabase(configured)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("database %s does not exist yet: run `visastats run` first", configured)
	}
	if wal := walBeside(path, configured); wal != "" {
		return "", fmt.Errorf("refused to read %s: %s is beside it, the write-ahead log of a program that opened the database read-write and did not close it; DuckDB would replay that log's changes onto the published data. Close that program; `visastats run` then removes the log (or remove it yourself once no program has the database open)", configured, wal)
	}
	return path, nil
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
