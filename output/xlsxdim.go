package output

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

var (
	sheetPart    = regexp.MustCompile(`^xl/worksheets/sheet\d+\.xml$`)
	dimensionTag = regexp.MustCompile(`<dimension ref="[^"]*"\s*(?:/>|></dimension>)`)
	cellRef      = regexp.MustCompile(`<c r="([A-Z]{1,3})([0-9]+)"`)
)

// writeWithDimensions writes the xlsx package src to w with every
// worksheet's <dimension> set to the range its cells use. excelize's
// stream writer emits the dimension before any row is known, so every
// streamed sheet declared A1; readers that trust the declaration
// (openpyxl in read-only mode, some ETL tools) then saw one cell a sheet.
// Other parts are copied unchanged.
func writeWithDimensions(w io.Writer, src []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, f := range zr.File {
		if !sheetPart.MatchString(f.Name) {
			if err := zw.Copy(f); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if ref := usedRange(body); ref != "" {
			tag := []byte(`<dimension ref="` + ref + `"/>`)
			if loc := dimensionTag.FindIndex(body); loc != nil {
				body = append(append(append([]byte{}, body[:loc[0]]...), tag...), body[loc[1]:]...)
			}
		}
		hdr := f.FileHeader
		out, err := zw.CreateHeader(&zip.FileHeader{Name: hdr.Name, Method: zip.Deflate, Modified: hdr.Modified})
		if err != nil {
			return err
		}
		if _, err := out.Write(body); err != nil {
			return err
		}
	}
	return zw.Close()
}

// usedRange is the range from the first to the last row and column that
// hold a cell in a worksheet's XML, "" when there is none.
func usedRange(sheet []byte) string {
	minRow, maxRow, minCol, maxCol := 0, 0, 0, 0
	for _, m := range cellRef.FindAllSubmatch(sheet, -1) {
		col, err := excelize.ColumnNameToNumber(string(m[1]))
		if err != nil {
			continue
		}
		row, err := strconv.Atoi(string(m[2]))
		if err != nil {
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
	return strings.Join([]string{a, b}, ":")
}
