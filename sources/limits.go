package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits bounds what a reader accepts from one input file, so that a small
// file that expands without bound (a zip bomb in a workbook, a gzip stream
// of one endless line, a CSV line of millions of fields, a quoted CSV field
// that never closes) fails within seconds with an error naming the file
// and the place, instead of taking the machine's memory. The zero value of
// a field means its default.
type Limits struct {
	// MaxExpandedBytes is the most a text input may hold once
	// decompressed (a .tsv.gz, or a plain file). Default 16 GiB.
	MaxExpandedBytes int64 `mapstructure:"max_expanded_bytes"`
	// MaxWorkbookBytes is the most the parts of one .xlsx workbook may
	// hold once unzipped, in total. Default 128 MiB (the EC workbooks
	// unzip to about 3.5 MB).
	MaxWorkbookBytes int64 `mapstructure:"max_workbook_bytes"`
	// MaxLineBytes is the longest line of a text input. Default 1 MiB.
	MaxLineBytes int64 `mapstructure:"max_line_bytes"`
	// MaxCellBytes is the longest value of a workbook cell. Default 128
	// KiB (Excel holds at most 32,767 characters in a cell).
	MaxCellBytes int `mapstructure:"max_cell_bytes"`
	// MaxSheetRows is the most rows a worksheet may have. Default 1,048,576,
	// Excel's own limit.
	MaxSheetRows int `mapstructure:"max_sheet_rows"`
	// MaxSheetColumns is the most cells a worksheet row may have. Default
	// 16,384, Excel's own limit.
	MaxSheetColumns int `mapstructure:"max_sheet_columns"`
	// MaxRecordBytes is the largest record of a CSV input: one line, or
	// the lines a quoted field spans. Default 16 MiB. The line limit
	// alone does not bound a record: a quoted field that never closes
	// keeps growing over short lines to the end of the file.
	MaxRecordBytes int64 `mapstructure:"max_record_bytes"`
}

// DefaultLimits returns the limits used for fields left at zero.
func DefaultLimits() Limits {
	return Limits{
		MaxExpandedBytes: 16 << 30,
		MaxWorkbookBytes: 128 << 20,
		MaxLineBytes:     1 << 20,
		MaxCellBytes:     128 << 10,
		MaxSheetRows:     1 << 20,
		MaxSheetColumns:  1 << 14,
		MaxRecordBytes:   16 << 20,
	}
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxExpandedBytes <= 0 {
		l.MaxExpandedBytes = d.MaxExpandedBytes
	}
	if l.MaxWorkbookBytes <= 0 {
		l.MaxWorkbookBytes = d.MaxWorkbookBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = d.MaxLineBytes
	}
	if l.MaxCellBytes <= 0 {
		l.MaxCellBytes = d.MaxCellBytes
	}
	if l.MaxSheetRows <= 0 {
		l.MaxSheetRows = d.MaxSheetRows
	}
	if l.MaxSheetColumns <= 0 {
		l.MaxSheetColumns = d.MaxSheetColumns
	}
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = d.MaxRecordBytes
	}
	return l
}

// ErrLimit marks an input that exceeds one of the Limits.
var ErrLimit = errors.New("exceeds a configured limit")

// LimitError says which limit an input exceeded and where; the error that
// wraps it names the file.
type LimitError struct {
	What string // "line 12", "the decompressed content", "cell A7"
	Max  int64  // the limit
	Unit string // "bytes", "rows", "cells"
	Key  string // the configuration key, e.g. limits.max_line_bytes
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %d %s (%s): is this the right file?", e.What, e.Max, e.Unit, e.Key)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// lineLimitReader passes a text stream through, failing with a
// *LimitError as soon as a line grows longer than maxLine or the stream
// longer than maxTotal, before a reader above it buffers the line. Lines
// are counted from 1 for the message.
type lineLimitReader struct {
	r        io.Reader
	maxLine  int64
	maxTotal int64
	total    int64
	cur      int64 // bytes since the last '\n'
	lines    int64 // '\n' seen
	err      error
}

func newLineLimitReader(r io.Reader, l Limits) *lineLimitReader {
	l = l.WithDefaults()
	return &lineLimitReader{r: r, maxLine: l.MaxLineBytes, maxTotal: l.MaxExpandedBytes}
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	l.total += int64(n)
	if l.total > l.maxTotal {
		l.err = &LimitError{What: fmt.Sprintf("the decompressed content (at line %d)", l.lines+1), Max: l.maxTotal, Unit: "bytes", Key: "limits.max_expanded_bytes"}
		return 0, l.err
	}
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		l.cur += int64(n)
	} else {
		first := bytes.IndexByte(b, '\n')
		if l.cur += int64(first); l.cur <= l.maxLine {
			l.lines++
			l.cur = 0
			if int64(last-first) > l.maxLine {
				// Only a chunk longer than the limit can hide a long
				// line between two of its newlines: look at each.
				for rest := b[first+1 : last+1]; len(rest) > 0 && l.cur <= l.maxLine; {
					i := bytes.IndexByte(rest, '\n')
					if l.cur = int64(i); l.cur <= l.maxLine {
						l.lines++
						rest = rest[i+1:]
					}
				}
			} else {
				l.lines += int64(bytes.Count(b[first+1:last+1], []byte{'\n'}))
			}
			if l.cur <= l.maxLine {
				l.cur = int64(n - last - 1)
			}
		}
	}
	if l.cur > l.maxLine {
		l.err = &LimitError{What: fmt.Sprintf("line %d", l.lines+1), Max: l.maxLine, Unit: "bytes", Key: "limits.max_line_bytes"}
		return 0, l.err
	}
	return n, err
}

// csvState is where a recordLimitReader stands in the CSV syntax.
type csvState uint8

const (
	csvRecordStart csvState = iota // before a record's first byte
	csvFieldStart                  // after a comma
	csvUnquoted                    // in a field that does not start with a quote
	csvQuoted                      // in a quoted field
	csvQuoteSeen                   // after a quote in a quoted field: its end, or the first of two
)

// recordLimitReader passes CSV text to an encoding/csv reader, following
// its quoting, and fails as soon as one record (a line, or the lines one
// of its quoted fields spans) grows longer than the record limit, before
// the reader above buffers it: encoding/csv keeps a quoted field that
// never closes growing, short line after short line, to the end of the
// input. The error is a *LocatedError at the line where the record starts,
// wrapping a *LimitError.
//
// It reads quotes as encoding/csv does with LazyQuotes off: a quote opens
// a quoted field only at the start of a field, and two quotes in a quoted
// field stand for one. Where a file breaks these rules encoding/csv
// reports the error on that line, long before the limit.
type recordLimitReader struct {
	r     io.Reader
	file  string
	max   int64
	state csvState
	line  int64 // line of the next byte, 1-based
	start int64 // line where the current record starts
	quote int64 // line where the current quoted field starts
	n     int64 // bytes of the current record so far
	err   error
}

// newRecordLimitReader bounds the records of the CSV text r, whose first
// byte is on line firstLine of file.
func newRecordLimitReader(r io.Reader, file string, firstLine int64, l Limits) *recordLimitReader {
	return &recordLimitReader{r: r, file: file, max: l.WithDefaults().MaxRecordBytes, line: firstLine, start: firstLine}
}

func (l *recordLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for i := 0; i < len(b); {
		if l.state == csvQuoted {
			// The common long case: skip to the next quote at once.
			end := len(b)
			if j := bytes.IndexByte(b[i:], '"'); j >= 0 {
				end = i + j + 1
				l.state = csvQuoteSeen
			}
			l.line += int64(bytes.Count(b[i:end], []byte{'\n'}))
			l.n += int64(end - i)
			i = end
		} else {
			c := b[i]
			i++
			l.n++
			switch {
			case c == '\n':
				// The end of a record. An empty line is none, as
				// encoding/csv skips it: the next starts after it.
				l.state = csvRecordStart
				l.line++
				l.start, l.n = l.line, 0
			case c == '"' && (l.state == csvRecordStart || l.state == csvFieldStart):
				l.state, l.quote = csvQuoted, l.line
			case c == '"' && l.state == csvQuoteSeen:
				l.state = csvQuoted // a doubled quote
			case c == ',':
				l.state = csvFieldStart
			case c == '\r' && (l.state == csvQuoteSeen || l.state == csvRecordStart):
				// Part of a line end, or of an empty line.
			case l.state == csvQuoteSeen:
				l.state = csvQuoted // encoding/csv fails here; stay in step
			default:
				l.state = csvUnquoted
			}
		}
		if l.n > l.max {
			what := "the CSV record that starts on this line"
			if l.state == csvQuoted || l.state == csvQuoteSeen {
				what += fmt.Sprintf(" (in a quoted field opened on line %d that does not close)", l.quote)
			}
			l.err = &LocatedError{File: l.file, Line: l.start,
				Err: &LimitError{What: what, Max: l.max, Unit: "bytes", Key: "limits.max_record_bytes"}}
			return 0, l.err
		}
	}
	return n, err
}
