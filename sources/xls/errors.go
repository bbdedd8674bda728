package xls

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrLimit is wrapped by every error that refuses a file because it goes
// beyond one of the Limits (or the cell budget derived from the stream's
// size). The message names the limit and its value.
var ErrLimit = errors.New("xls: limit exceeded")

// ErrUnsupported is wrapped by the errors for workbooks this package does not
// read: encrypted ones (FILEPASS) and those written as BIFF5 or earlier
// (Excel 95 and older).
var ErrUnsupported = errors.New("xls: unsupported workbook")

// FormatError reports a workbook that cannot be read: a damaged or hostile
// file, an unsupported one (Err is ErrUnsupported) or one beyond the limits
// (Err is ErrLimit). It says where the problem is, down to the record.
type FormatError struct {
	Path       string // the file as given to Open
	Sheet      string // the worksheet being read; "" in the workbook globals
	Offset     int64  // the record's position in the Workbook stream; -1 when no record is concerned
	Record     uint16 // the record's type, e.g. 0x00FD
	RecordName string // the record's name, e.g. "LABELSST"; "" for a type this package does not name
	Msg        string // what is wrong
	Err        error  // the underlying error or sentinel, if any
}

// Error returns, for example:
//
//	statistiques2009.xls sheet "Visa Statistics 2009": record LABELSST (0x00FD) at offset 123456: SST index 9999 out of range (the table holds 2,312 strings)
//
// naming the file by its base name (Path keeps the whole path).
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString(filepath.Base(e.Path))
	if e.Sheet != "" {
		fmt.Fprintf(&b, " sheet %q", e.Sheet)
	}
	switch {
	case e.Offset < 0:
	case e.RecordName != "":
		fmt.Fprintf(&b, ": record %s (0x%04X) at offset %d", e.RecordName, e.Record, e.Offset)
	case e.Record != 0:
		fmt.Fprintf(&b, ": record 0x%04X at offset %d", e.Record, e.Offset)
	default:
		fmt.Fprintf(&b, ": at offset %d", e.Offset)
	}
	switch {
	case e.Msg != "" && e.Err != nil:
		fmt.Fprintf(&b, ": %s: %v", e.Msg, e.Err)
	case e.Msg != "":
		b.WriteString(": " + e.Msg)
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error: ErrLimit, ErrUnsupported, an error of
// the compound-file reader, or nil.
func (e *FormatError) Unwrap() error { return e.Err }

// commas formats n with thousands separators, as the messages print counts.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
