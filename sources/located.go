package sources

import (
	"fmt"
	"strconv"
	"strings"
)

// LocatedError is a data problem at a place in an input: a workbook cell, a
// field of a text file's line, an item of an API page, or a whole line or
// file when no finer place applies. Every source reports bad input with it,
// so that a user can open the file and find the value, as encoding/csv
// does with its ParseError.
//
// Its message always has the same shape:
//
//	<file>[ sheet "<sheet>"][ row|line|item <n>][ column <column>[ (<header>)]]: <what is wrong>[ (found "<value>")]
type LocatedError struct {
	// File is the path as configured, or the address of an API page
	// without the credentials it may carry.
	File string
	// Sheet is the worksheet of a workbook; "" for text files and pages.
	Sheet string
	// Line is 1-based: the row of a worksheet (when Sheet is set), the
	// item of an API page (when Item is set), or else the line of a text
	// file. 0 when the file as a whole is wrong.
	Line int64
	// Item says Line counts the items of a JSON page.
	Item bool
	// Column is the column letter of a worksheet, the header or 1-based
	// field number of a text file, or the field of a JSON item; "" when
	// the line as a whole is wrong.
	Column string
	// Header is the column's header as expected, shown beside a column
	// letter or number; "" when Column already names it.
	Header string
	// Value is the offending text as read, if there is one.
	Value string
	// Err is what is wrong, often one of the package's Err values.
	Err error
}

// maxValueInError bounds how much of a value a message repeats.
const maxValueInError = 80

// Error reports file, sheet, line, column, cause and value.
func (e *LocatedError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Sheet != "" {
		fmt.Fprintf(&b, " sheet %q", e.Sheet)
	}
	if e.Line > 0 {
		unit := "line"
		switch {
		case e.Sheet != "":
			unit = "row"
		case e.Item:
			unit = "item"
		}
		fmt.Fprintf(&b, " %s %d", unit, e.Line)
	}
	if e.Column != "" {
		b.WriteString(" column ")
		if plainColumn(e.Column) {
			b.WriteString(e.Column)
		} else {
			b.WriteString(strconv.Quote(e.Column))
		}
		if e.Header != "" {
			fmt.Fprintf(&b, " (%s)", e.Header)
		}
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Value != "" {
		v := e.Value
		if len(v) > maxValueInError {
			v = v[:maxValueInError] + "..."
		}
		fmt.Fprintf(&b, " (found %q)", v)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *LocatedError) Unwrap() error { return e.Err }

// plainColumn reports whether a column name reads unambiguously without
// quotes: a letter, a number or an identifier.
func plainColumn(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// fieldNumber names the 1-based field n of a text line as a Column; 0 and
// below mean the whole line.
func fieldNumber(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// truncateForError shortens s for a message.
func truncateForError(s string) string {
	if len(s) <= maxValueInError {
		return s
	}
	return s[:maxValueInError] + "..."
}
