// Command isonames writes data/reference/iso3166_names.csv from the ISO 3166
// lists distributed in Debian's iso-codes package, so that the country
// crosswalk derives its aliases from a complete reference rather than from
// the spellings met so far. It is run by hand when iso-codes is updated
// (make iso-names); the pipeline reads only the CSV it writes.
//
// Every ISO 3166-1 entry gives its short name (iso_name) and, where ISO
// gives them, its official_name and common_name. Every ISO 3166-3 entry
// (a withdrawn code) gives its name as withdrawn, mapped to the current code
// that the last two letters of its alpha-4 code name (BUMM -> MM, ZRCD -> CD;
// AA means the alpha-2 code did not change, BYAA -> BY). Entries whose
// successor is several countries (HH, XX) or itself withdrawn (YUCS -> CS)
// are left out: such a name cannot be mapped to one code.
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	dir := flag.String("iso-codes", "/usr/share/iso-codes/json", "directory holding iso_3166-1.json and iso_3166-3.json")
	out := flag.String("out", "data/reference/iso3166_names.csv", "CSV file to write")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "isonames:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	rows, skipped, err := names(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := write(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	for _, s := range skipped {
		fmt.Fprintln(os.Stderr, "left out (no single current code):", s)
	}
	return f.Close()
}

// row is one name of the output file.
type row struct {
	Code, Name, Kind, Note string
}

type current struct {
	Alpha2       string `json:"alpha_2"`
	Name         string `json:"name"`
	OfficialName string `json:"official_name"`
	CommonName   string `json:"common_name"`
}

type withdrawn struct {
	Alpha2         string `json:"alpha_2"`
	Alpha4         string `json:"alpha_4"`
	Name           string `json:"name"`
	WithdrawalDate string `json:"withdrawal_date"`
}

// kindOrder sorts a code's names: the short name first.
var kindOrder = map[string]int{"iso_name": 0, "official_name": 1, "common_name": 2, "withdrawn": 3}

// names reads both lists and returns the rows sorted by code, kind and name,
// and the withdrawn entries left out.
func names(dir string) ([]row, []string, error) {
	var part1 struct {
		Entries []current `json:"3166-1"`
	}
	var part3 struct {
		Entries []withdrawn `json:"3166-3"`
	}
	if err := readJSON(filepath.Join(dir, "iso_3166-1.json"), &part1); err != nil {
		return nil, nil, err
	}
	if err := readJSON(filepath.Join(dir, "iso_3166-3.json"), &part3); err != nil {
		return nil, nil, err
	}
	if len(part1.Entries) == 0 || len(part3.Entries) == 0 {
		return nil, nil, fmt.Errorf("%s: expected entries under \"3166-1\" and \"3166-3\"", dir)
	}
	var rows []row
	live := map[string]bool{}
	for _, c := range part1.Entries {
		live[c.Alpha2] = true
		rows = append(rows, row{c.Alpha2, c.Name, "iso_name", ""})
		if c.OfficialName != "" && c.OfficialName != c.Name {
			rows = append(rows, row{c.Alpha2, c.OfficialName, "official_name", ""})
		}
		if c.CommonName != "" && c.CommonName != c.Name {
			rows = append(rows, row{c.Alpha2, c.CommonName, "common_name", ""})
		}
	}
	var skipped []string
	for _, w := range part3.Entries {
		successor := ""
		if len(w.Alpha4) == 4 {
			successor = w.Alpha4[2:]
		}
		if successor == "AA" {
			successor = w.Alpha2
		}
		note := fmt.Sprintf("ISO 3166-3 %s (former code %s), withdrawn %s", w.Alpha4, w.Alpha2, w.WithdrawalDate)
		if !live[successor] {
			skipped = append(skipped, w.Name+" ("+w.Alpha4+")")
			continue
		}
		rows = append(rows, row{successor, w.Name, "withdrawn", note})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		if a.Kind != b.Kind {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.Name < b.Name
	})
	return rows, skipped, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func write(w io.Writer, rows []row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"code", "name", "kind", "note"}); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Code, strings.TrimSpace(r.Name), r.Kind, r.Note}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
