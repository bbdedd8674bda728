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

// File returns the path of the shipped workbook (.xlsx or .xls) whose name
// carries year, relative to the working directory (the test's folder), as
// a user's configuration would name it.
func File(t testing.TB, year string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root(t), filepath.FromSlash(Dir), "*"+year+"*.xls*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("want one shipped workbook for %s, got %v (%v)", year, files, err)
	}
	return rel(t, files[0])
}

// ReferenceDir returns the path of the shipped reference directory (the
// EC layouts among its files), relative to the working directory.
func ReferenceDir(t testing.TB) string {
	t.Helper()
	return rel(t, filepath.Join(root(t), "data", "reference"))
}

// root returns the module's root folder, above the working directory.
func root(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r := wd
	for {
		if _, err := os.Stat(filepath.Join(r, "go.mod")); err == nil {
			return r
		}
		parent := filepath.Dir(r)
		if parent == r {
			t.Fatalf("find %s: no go.mod above %s", Dir, wd)
		}
		r = parent
	}
}

// rel returns path relative to the working directory.
func rel(t testing.TB, path string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r, err := filepath.Rel(wd, path)
	if err != nil {
		t.Fatal(err)
	}
	return r
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
