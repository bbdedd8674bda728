package output

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"regexp"

	"github.com/xuri/excelize/v2"
)

var sheetPart = regexp.MustCompile(`^xl/worksheets/sheet\d+\.xml$`)

// dimensionZip is the zip writer a workbook is saved through. It passes
// every part to zw unchanged except the worksheets, whose <dimension> it
// sets to the range their cells use: excelize's stream writer emits the
// dimension before any row is known, so every streamed sheet declared A1,
// and readers that trust the declaration (openpyxl in read-only mode, some
// ETL tools) then saw one cell a sheet. A worksheet is held until its part
// is complete, then compressed once.
type dimensionZip struct {
	zw   *zip.Writer
	name string    // the worksheet being held, "" when none
	body sheetBody // its XML
}

func newDimensionZip(w io.Writer) excelize.ZipWriter {
	return &dimensionZip{zw: zip.NewWriter(w), body: sheetBody{new(bytes.Buffer)}}
}

// sheetBody holds a worksheet's XML. Read from a source that knows its
// size (excelize's temporary file of a large streamed sheet), it grows
// once to that size instead of doubling its way there.
type sheetBody struct{ *bytes.Buffer }

func (b sheetBody) ReadFrom(r io.Reader) (int64, error) {
	if s, ok := r.(interface{ Size() int64 }); ok {
		b.Grow(int(s.Size()) + bytes.MinRead)
	}
	return b.Buffer.ReadFrom(r)
}

// Create starts the part name; the part before it is complete.
func (z *dimensionZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	if sheetPart.MatchString(name) {
		z.name = name
		z.body.Reset()
		return z.body, nil
	}
	return z.zw.Create(name)
}

// AddFS adds the files of fsys after the parts written so far.
func (z *dimensionZip) AddFS(fsys fs.FS) error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

// Close writes the last part and the zip's central directory.
func (z *dimensionZip) Close() error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.Close()
}

// finish writes the worksheet being held, if any, with its dimension set.
func (z *dimensionZip) finish() error {
	if z.name == "" {
		return nil
	}
	name := z.name
	z.name = ""
	out, err := z.zw.Create(name)
	if err != nil {
		return err
	}
	if err := writeWithDimension(out, z.body.Bytes()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// writeWithDimension writes the worksheet XML sheet to w with its first
// <dimension> element replaced by the range its cells use. A sheet without
// cells or without a dimension element is written unchanged.
func writeWithDimension(w io.Writer, sheet []byte) error {
	ref := usedRange(sheet)
	start, end := dimensionTag(sheet)
	if ref == "" || start < 0 {
		_, err := w.Write(sheet)
		return err
	}
	for _, part := range [][]byte{sheet[:start], []byte(`<dimension ref="` + ref + `"/>`), sheet[end:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// dimensionTag finds the first element <dimension ref="..."/> (or its
// form with a closing tag) in a worksheet's XML and returns where it starts
// and ends, or -1, -1.
func dimensionTag(sheet []byte) (int, int) {
	const open = `<dimension ref="`
	from := 0
	for {
		i := bytes.Index(sheet[from:], []byte(open))
		if i < 0 {
			return -1, -1
		}
		start := from + i
		j := start + len(open)
		q := bytes.IndexByte(sheet[j:], '"')
		if q < 0 {
			return -1, -1
		}
		j += q + 1
		for j < len(sheet) && isXMLSpace(sheet[j]) {
			j++
		}
		rest := sheet[j:]
		switch {
		case bytes.HasPrefix(rest, []byte("/>")):
			return start, j + 2
		case bytes.HasPrefix(rest, []byte("></dimension>")):
			return start, j + len("></dimension>")
		}
		from = start + 1
	}
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// usedRange is the range from the first to the last row and column that
// hold a cell (an element <c r="A1"...) in a worksheet's XML, "" when there
// is none. Cell text cannot hold the pattern: XML escapes its "<".
func usedRange(sheet []byte) string {
	const open = `<c r="`
	minRow, maxRow, minCol, maxCol := 0, 0, 0, 0
	for from := 0; ; {
		i := bytes.Index(sheet[from:], []byte(open))
		if i < 0 {
			break
		}
		p := from + i + len(open)
		from = p
		col, row, ok := parseCellRef(sheet[p:])
		if !ok {
			continue
		}
		if minRow == 0 || row < minRow {
			minRow = row
		}
		if row > maxRow {
			maxRow = row
		}
		if minCol == 0 || col < minCol {
			minCol = col
		}
		if col > maxCol {
			maxCol = col
		}
	}
	if maxRow == 0 {
		return ""
	}
	a, _ := excelize.CoordinatesToCellName(minCol, minRow)
	b, _ := excelize.CoordinatesToCellName(maxCol, maxRow)
	if a == b {
		return a
	}
	return a + ":" + b
}

// parseCellRef reads a cell reference such as AB12 followed by a quote at
// the start of b: one to three capital letters, then digits. It returns
// the column and row numbers, false when b does not start so or the
// numbers are out of Excel's range.
func parseCellRef(b []byte) (col, row int, ok bool) {
	i := 0
	for i < len(b) && i < 3 && b[i] >= 'A' && b[i] <= 'Z' {
		col = col*26 + int(b[i]-'A'+1)
		i++
	}
	if i == 0 {
		return 0, 0, false
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		if row > ExcelMaxRows {
			return 0, 0, false
		}
		row = row*10 + int(b[j]-'0')
		j++
	}
	if j == i || j >= len(b) || b[j] != '"' {
		return 0, 0, false
	}
	if col > excelize.MaxColumns || row < 1 || row > ExcelMaxRows {
		return 0, 0, false
	}
	return col, row, true
}
