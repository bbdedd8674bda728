package sources

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/sources/xls"
)

// ecBook is an EC workbook as the reader needs it, whatever its format:
// OOXML (.xlsx, through excelize) or BIFF8 (.xls, through sources/xls).
// Cell values are text as excelize's RawCellValue gives them: numbers in
// their shortest form ("4607.999999999999"), formulas as their cached
// results.
type ecBook interface {
	// SheetNames lists the worksheets in order.
	SheetNames() []string
	// Rows reads a sheet's cell values, Rows[r][c] for row r+1 and column
	// c (0 = A), refusing a sheet larger than the limits allow; the error
	// names the file, sheet and row.
	Rows(sheet string) ([][]string, error)
	// Formula returns the formula of the cell at 1-based row and 0-based
	// column with a leading "=", "" when the cell holds a typed value.
	Formula(sheet string, row, col int) (string, error)
	// Uncalculated returns the cells (1-based row, 0-based column) that
	// hold a formula but no calculated value: what a program that writes
	// workbooks without calculating them (openpyxl, pandas) leaves, and
	// what Rows reads as blank.
	Uncalculated(sheet string) (map[ecCell]bool, error)
	Close() error
}

// ecCell is a cell: 1-based row, 0-based column.
type ecCell struct{ row, col int }

var (
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	zipMagic = []byte{'P', 'K', 0x03, 0x04}
)

// openECBook opens the workbook at path by its content: a zip container is
// read as .xlsx, an OLE2 compound file as .xls (BIFF8), whatever the name.
func openECBook(path string, lim Limits) (ecBook, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open workbook %s: %w", path, err)
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, oleMagic):
		f.Close()
		wb, err := xls.Open(path, xls.Limits{MaxStreamBytes: lim.MaxWorkbookBytes, MaxRows: min(lim.MaxSheetRows, 65536),
			MaxColumns: min(lim.MaxSheetColumns, 256), MaxCellBytes: lim.MaxCellBytes})
		if err != nil {
			return nil, xlsOpenError(path, err)
		}
		return &xlsBook{path: path, wb: wb}, nil
	case !bytes.HasPrefix(head, zipMagic):
		f.Close()
		return nil, fmt.Errorf("open workbook %s: %w: neither an .xlsx workbook (a zip container) nor a binary .xls workbook; this file starts with %q", path, ErrUnsupportedFormat, head)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("open workbook %s: %w", path, err)
	}
	// Parts larger than the XML limit are unzipped to a temporary file
	// and read from there as a stream, not held in memory; the size limit
	// refuses a workbook whose parts unzip to more than lim allows, as
	// declared by the zip (archive/zip fails a part that outgrows it).
	wb, err := excelize.OpenReader(f, excelize.Options{RawCellValue: true,
		UnzipSizeLimit: lim.MaxWorkbookBytes, UnzipXMLSizeLimit: min(lim.MaxWorkbookBytes, 16<<20)})
	f.Close()
	if err != nil {
		return nil, ecOpenError(path, err, lim)
	}
	return &xlsxBook{path: path, wb: wb, lim: lim}, nil
}

// xlsOpenError says what is wrong with an .xls file the reader refuses.
func xlsOpenError(path string, err error) error {
	switch {
	case errors.Is(err, xls.ErrLimit):
		return fmt.Errorf("open workbook %s: %w: %w", path, ErrLimit, err)
	case errors.Is(err, xls.ErrUnsupported):
		return fmt.Errorf("open workbook %s: %w: %v; open it in Excel or LibreOffice and save it as .xlsx", path, ErrUnsupportedFormat, err)
	}
	return fmt.Errorf("open workbook %s: the .xls file is damaged or not a workbook (%w); download it again", path, err)
}

type xlsBook struct {
	path string
	wb   *xls.Workbook
}

func (b *xlsBook) SheetNames() []string { return b.wb.SheetNames() }

func (b *xlsBook) Rows(sheet string) ([][]string, error) {
	s := b.wb.Sheet(sheet)
	if s == nil {
		return nil, fmt.Errorf("read %s: no sheet %q", b.path, sheet)
	}
	return s.Rows, nil
}

func (b *xlsBook) Formula(sheet string, row, col int) (string, error) {
	s := b.wb.Sheet(sheet)
	if s == nil {
		return "", fmt.Errorf("read %s: no sheet %q", b.path, sheet)
	}
	f, _ := s.Formula(row, col)
	if f == "" {
		return "", nil
	}
	return "=" + f, nil
}

// Uncalculated implements ecBook: a FORMULA record whose cached result is
// an empty string (a count formula cannot calculate to text).
func (b *xlsBook) Uncalculated(sheet string) (map[ecCell]bool, error) {
	s := b.wb.Sheet(sheet)
	if s == nil {
		return nil, fmt.Errorf("read %s: no sheet %q", b.path, sheet)
	}
	out := map[ecCell]bool{}
	for r, row := range s.Rows {
		for c, v := range row {
			if strings.TrimSpace(v) == "" {
				if f, _ := s.Formula(r+1, c); f != "" {
					out[ecCell{r + 1, c}] = true
				}
			}
		}
	}
	return out, nil
}

func (b *xlsBook) Close() error { return nil }

type xlsxBook struct {
	path string
	wb   *excelize.File
	lim  Limits
}

func (b *xlsxBook) SheetNames() []string { return b.wb.GetSheetList() }

func (b *xlsxBook) Formula(sheet string, row, col int) (string, error) {
	f, err := b.wb.GetCellFormula(sheet, colName(col)+fmt.Sprint(row))
	if err != nil || f == "" {
		return "", err
	}
	if !strings.HasPrefix(f, "=") {
		f = "=" + f
	}
	return f, nil
}

func (b *xlsxBook) Close() error { return b.wb.Close() }

// Uncalculated implements ecBook by reading the sheet's XML part as tokens:
// a <c> element with an <f> (a formula, shared ones included) and an empty
// or missing <v>.
func (b *xlsxBook) Uncalculated(sheet string) (map[ecCell]bool, error) {
	out := map[ecCell]bool{}
	err := walkSheetXML(b.path, sheet, func(d *xml.Decoder) error {
		var ref string
		inC, hasF, inV := false, false, false
		var v strings.Builder
		for {
			tok, err := d.RawToken()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				switch t.Name.Local {
				case "c":
					inC, hasF, ref = true, false, ""
					v.Reset()
					for _, a := range t.Attr {
						if a.Name.Local == "r" {
							ref = a.Value
						}
					}
				case "f":
					hasF = inC
				case "v":
					inV = inC
				}
			case xml.CharData:
				if inV && v.Len() < 64 {
					v.Write(t)
				}
			case xml.EndElement:
				switch t.Name.Local {
				case "v":
					inV = false
				case "c":
					if hasF && strings.TrimSpace(v.String()) == "" && ref != "" {
						col, row, err := excelize.CellNameToCoordinates(ref)
						if err == nil {
							out[ecCell{row, col - 1}] = true
						}
					}
					inC = false
				}
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read %s sheet %q: the sheet is damaged: %w; download the file again or open and save it in Excel or LibreOffice", b.path, sheet, err)
	}
	return out, nil
}

// damaged returns the XML error of the sheet's part, nil when it is
// well-formed: excelize's row iterator stops quietly at broken XML, which
// then looks like a short sheet.
func (b *xlsxBook) damaged(sheet string) error { return sheetXMLError(b.path, sheet) }

// Rows reads the sheet's cell values row by row through excelize's
// streaming iterator, refusing a sheet with more rows, a row with more
// cells, or a cell longer than the limits allow. Gaps of empty rows are
// kept as empty rows so that indexes stay sheet rows minus one. The
// iterator stops quietly at broken XML: see damaged.
func (b *xlsxBook) Rows(sheet string) ([][]string, error) {
	path, lim := b.path, b.lim
	it, err := b.wb.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("read %s sheet %q: the sheet cannot be read (%v); the workbook may be damaged, open and save it again in Excel or LibreOffice", path, sheet, err)
	}
	defer it.Close()
	var rows [][]string
	for n := 1; it.Next(); n++ {
		if n > lim.MaxSheetRows {
			return nil, &LocatedError{File: path, Sheet: sheet, Line: int64(n),
				Err: &LimitError{What: "the sheet", Max: int64(lim.MaxSheetRows), Unit: "rows", Key: "limits.max_sheet_rows"}}
		}
		row, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, &LocatedError{File: path, Sheet: sheet, Line: int64(n), Err: fmt.Errorf("the row cannot be read (%v); the workbook may be damaged", err)}
		}
		if len(row) > lim.MaxSheetColumns {
			return nil, &LocatedError{File: path, Sheet: sheet, Line: int64(n),
				Err: &LimitError{What: "the row", Max: int64(lim.MaxSheetColumns), Unit: "cells", Key: "limits.max_sheet_columns"}}
		}
		for i, c := range row {
			if len(c) > lim.MaxCellBytes {
				return nil, &LocatedError{File: path, Sheet: sheet, Line: int64(n), Column: colName(i),
					Err: &LimitError{What: "the cell", Max: int64(lim.MaxCellBytes), Unit: "bytes", Key: "limits.max_cell_bytes"}}
			}
		}
		rows = append(rows, row)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("read %s sheet %q: the sheet is damaged (%v); open and save it again in Excel or LibreOffice", path, sheet, err)
	}
	// GetRows drops trailing empty rows; so does the reader.
	for len(rows) > 0 && len(rows[len(rows)-1]) == 0 {
		rows = rows[:len(rows)-1]
	}
	return rows, nil
}

// ecOpenError says what is wrong with a file excelize cannot open: too
// large once unzipped, a zip that is not a workbook, or a damaged file.
func ecOpenError(path string, err error, lim Limits) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unzip size exceeds"):
		return fmt.Errorf("open workbook %s: %w", path, &LimitError{What: "the unzipped workbook", Max: lim.MaxWorkbookBytes, Unit: "bytes", Key: "limits.max_workbook_bytes"})
	case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("open workbook %s: the file is damaged or truncated (%v); download it again", path, err)
	case errors.Is(err, io.EOF) || strings.Contains(msg, "no such file") || strings.Contains(msg, "does not exist"):
		return fmt.Errorf("open workbook %s: %w: a zip file, but not an .xlsx workbook (it lacks the workbook parts, such as xl/workbook.xml): %v", path, ErrUnsupportedFormat, err)
	}
	return fmt.Errorf("open workbook %s: %w", path, err)
}

// sheetXMLError reads the sheet's XML part of the workbook at path through
// to its end and returns the first XML syntax error, or nil when the part
// is well-formed (or cannot be found: other checks say so).
func sheetXMLError(path, sheet string) error {
	return walkSheetXML(path, sheet, func(d *xml.Decoder) error {
		for {
			_, err := d.RawToken()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
}

// walkSheetXML finds the XML part of the named sheet in the workbook at
// path and gives fn a decoder over it; an error of fn is returned with
// the part's name. A workbook or sheet that cannot be found is not an
// error here (other checks say so).
func walkSheetXML(path, sheet string, fn func(d *xml.Decoder) error) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil
	}
	defer zr.Close()
	open := func(name string) (io.ReadCloser, error) { return zr.Open(strings.TrimPrefix(name, "/")) }
	var wbXML struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	for name, v := range map[string]any{"xl/workbook.xml": &wbXML, "xl/_rels/workbook.xml.rels": &rels} {
		rc, err := open(name)
		if err != nil {
			return nil
		}
		err = xml.NewDecoder(rc).Decode(v)
		rc.Close()
		if err != nil {
			return nil
		}
	}
	part := ""
	for _, sh := range wbXML.Sheets {
		if sh.Name == sheet {
			for _, r := range rels.Rels {
				if r.ID == sh.ID {
					part = r.Target
					if !strings.HasPrefix(part, "/") {
						part = "xl/" + part
					}
				}
			}
		}
	}
	if part == "" {
		return nil
	}
	rc, err := open(part)
	if err != nil {
		return nil
	}
	defer rc.Close()
	if err := fn(xml.NewDecoder(rc)); err != nil {
		return fmt.Errorf("%s: %w", part, err)
	}
	return nil
}
