package output

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WriteCSV streams rows into a CSV file at path and returns the number of
// data rows written. The file is UTF-8 without a byte order mark, starts
// with a header row of the column names, and quotes fields as RFC 4180 says
// (a field holding a comma, a quote or a line break is quoted, quotes are
// doubled). Lines end with "\n": readers of RFC 4180 accept it, and "\r\n"
// would also rewrite line breaks inside values.
//
// Values are written so that every program reads them back the same way:
// NULL is an empty field, numbers use "." as the decimal separator,
// integers are written in full, floating-point numbers in the shortest
// form that reads back exactly and without exponent, booleans as true and
// false, dates as 2006-01-02, timestamps as ISO 8601 (2006-01-02T15:04:05,
// with the fraction of a second only when there is one, and Z for
// TIMESTAMPTZ). Text that a spreadsheet program would evaluate as a
// formula is written with a leading ' (see guardText); numbers, dates and
// booleans never are. The file appears under path only when complete;
// rows is closed by the caller.
func WriteCSV(ctx context.Context, path string, rows *sql.Rows) (int64, error) {
	var n int64
	err := writeAtomic(path, func(f *os.File) error {
		cols, err := rows.ColumnTypes()
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		w := csv.NewWriter(bw)
		record := make([]string, len(cols))
		for i, c := range cols {
			record[i] = c.Name()
		}
		if err := w.Write(record); err != nil {
			return err
		}
		kinds := make([]string, len(cols))
		for i, c := range cols {
			kinds[i] = strings.ToUpper(c.DatabaseTypeName())
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := rows.Scan(ptrs...); err != nil {
				return fmt.Errorf("row %d: %w", n+1, err)
			}
			for i, v := range vals {
				s, err := csvField(v, kinds[i])
				if err != nil {
					return fmt.Errorf("row %d column %q: %w", n+1, cols[i].Name(), err)
				}
				record[i] = s
			}
			if err := w.Write(record); err != nil {
				return err
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read rows: %w", err)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// csvField formats one database value; dbType is the column's DuckDB type
// name, which tells a DATE from a TIMESTAMP when both arrive as time.Time.
func csvField(v any, dbType string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return guardText(x), nil
	case []byte:
		if dbType == "BLOB" {
			return `\x` + hex.EncodeToString(x), nil
		}
		return guardText(string(x)), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.FormatInt(int64(x), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case *big.Int:
		return x.String(), nil
	case time.Time:
		return isoTime(x, dbType), nil
	case []any, map[string]any:
		b, err := json.Marshal(x)
		return string(b), err
	}
	if f, ok := asFloat64(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	}
	if s, ok := v.(fmt.Stringer); ok {
		return guardText(s.String()), nil
	}
	return "", fmt.Errorf("type %s (%T) has no CSV form; cast it in the query", dbType, v)
}

// guardText writes a text value so that a spreadsheet program opening the
// file shows it instead of evaluating it (CSV injection): a value that
// starts with =, @, a tab or a carriage return, or with + or - and is not
// a plain number, gets a leading ' (OWASP's advice), so that spreadsheets
// show it as text. An upstream consulate named
// =HYPERLINK(...) or an input file named =1+1.csv is thus a name, not a
// link or a sum. Numbers written as text ("-0.24", "+17") and dates keep
// their form, and only text is guarded: numeric columns are never
// prefixed, so typed readers (DuckDB, pandas, polars) type them as before.
//
// A value that already starts with ' before such a character gets one
// more, so the rule can be undone: remove the first ' of a value whose
// remainder, without its leading quotes, is formula-like.
func guardText(s string) string {
	if formulaLike(strings.TrimLeft(s, "'")) {
		return "'" + s
	}
	return s
}

// formulaLike reports whether a spreadsheet program may take the text s
// for a formula; some trim a leading tab or carriage return first.
func formulaLike(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !plainNumber.MatchString(s)
	}
	return false
}

// plainNumber is a decimal number with an optional sign, fraction and
// exponent: what spreadsheets read as a number, not a formula.
var plainNumber = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// isoTime writes a date or a timestamp in ISO 8601.
func isoTime(t time.Time, dbType string) string {
	switch {
	case dbType == "DATE":
		return t.Format(time.DateOnly)
	case dbType == "TIME":
		return t.Format("15:04:05.999999999")
	case strings.HasSuffix(dbType, "TZ"):
		return t.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
	default:
		return t.Format("2006-01-02T15:04:05.999999999")
	}
}

// asFloat64 reads a value whose pointer has a Float64 method, as database
// drivers give DECIMAL values (go-duckdb's Decimal), without tying this
// package to one driver's types.
func asFloat64(v any) (float64, bool) {
	if f, ok := v.(interface{ Float64() float64 }); ok {
		return f.Float64(), true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return 0, false
	}
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	if f, ok := p.Interface().(interface{ Float64() float64 }); ok {
		return f.Float64(), true
	}
	return 0, false
}
