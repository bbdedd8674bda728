// Package xls reads legacy binary Excel workbooks (.xls: BIFF8 records in
// the "Workbook" stream of an OLE2 compound file) into plain cell text, so
// that the sources which load spreadsheets can treat an .xls file like an
// .xlsx one: a list of worksheets, each a grid of strings, plus the formula
// behind a cell when a caller needs to explain a printed total.
//
// Cell text follows what excelize returns for .xlsx with RawCellValue:
// numbers in Go's shortest 'f' form, strings as stored, cached formula
// results rather than formulas, no number formats applied. Formulas are kept
// as their parsed tokens and rendered on request by Sheet.Formula.
//
// The package must not know about any publication: no sheet names, header
// words, layouts or years. It does not evaluate formulas, apply number
// formats, read charts, macros, pivot caches or embedded objects, decrypt
// files, or read BIFF5 and earlier workbooks (those are refused with
// ErrUnsupported). Every input is treated as hostile: it never panics, and
// what it allocates is bounded by Limits and by the size of the stream, so a
// damaged file ends in a *FormatError, not in an exhausted process.
package xls
