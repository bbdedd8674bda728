package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits bounds what a reader accepts from one input file, so that a small
// file that expands without bound (a zip bomb in a workbook, a gzip stream
// of one endless line, a CSV line of millions of fields) fails within
// seconds with an error naming the file and the place, instead of taking
// the machine's memory. The zero value of a field means its default.
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
