// Package ectest gives tests the European Commission's Schengen visa
// workbooks the project ships (data/ec_schengen_consulates), and copies of
// them with one thing changed, so that a test of bad input starts from a
// real publication. It is used by tests only, and must not import sources
// (whose own tests import it).
package ectest

import (
	"archive/zip"
	"compress/flate"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Dir is the folder of the shipped workbooks, relative to the module's
// root.
const Dir = "data/ec_schengen_consulates"

// File returns the path of the shipped workbook whose name carries year,
// relative to the working directory (the test's folder), as a user's
// configuration would name it.
func File(t testing.TB, year string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("find %s: no go.mod above %s", Dir, wd)
		}
		root = parent
	}
	files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(Dir), "*"+year+"*.xlsx"))
	if err != nil || len(files) != 1 {
		t.Fatalf("want one shipped workbook for %s, got %v (%v)", year, files, err)
	}
	rel, err := filepath.Rel(wd, files[0])
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// Edit copies the shipped workbook of year into a fresh temporary folder
// as edited-<year>.xlsx, with edit applied, and returns its path.
func Edit(t testing.TB, year string, edit func(f *excelize.File) error) string {
	t.Helper()
	return EditAs(t, year, filepath.Join(t.TempDir(), "edited-"+year+".xlsx"), edit)
}

// EditAs copies the shipped workbook of year to path with edit applied,
// and returns path. The copy is compressed for speed rather than size (a
// fixture is read once); it is otherwise what excelize saves.
func EditAs(t testing.TB, year, path string, edit func(f *excelize.File) error) string {
	t.Helper()
	f, err := excelize.OpenFile(File(t, year))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := edit(f); err != nil {
		t.Fatal(err)
	}
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return zw
	})
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}
