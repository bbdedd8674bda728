package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// isoHostNames renames host countries of the 2015 workbook to the ISO 3166
// official, current or withdrawn names that older EC workbooks use; none of
// them is a line of an alias file.
var isoHostNames = map[string]struct{ name, code string }{
	"IRAN":                        {"IRAN, ISLAMIC REPUBLIC OF", "IR"},
	"VIETNAM":                     {"VIET NAM", "VN"},
	"SYRIA":                       {"SYRIAN ARAB REPUBLIC", "SY"},
	"LIBYA":                       {"LIBYAN ARAB JAMAHIRIYA", "LY"},
	"TAIWAN":                      {"TAIWAN, PROVINCE OF CHINA", "TW"},
	"MOLDOVA":                     {"MOLDOVA, REPUBLIC OF", "MD"},
	"TANZANIA":                    {"TANZANIA, UNITED REPUBLIC OF", "TZ"},
	"LAOS":                        {"LAO PEOPLE'S DEMOCRATIC REPUBLIC", "LA"},
	"NORTH KOREA":                 {"KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF", "KP"},
	"CONGO (DEMOCRATIC REPUBLIC)": {"CONGO, THE DEMOCRATIC REPUBLIC OF THE", "CD"},
	"PALESTINIAN AUTHORITY":       {"PALESTINE", "PS"},
}

// renameHosts copies the shipped 2015 workbook into dir with the host
// countries in column B renamed (nothing else changed) and returns its path.
func renameHosts(t *testing.T, dir string, rename map[string]string) string {
	t.Helper()
	return ectest.EditAs(t, "2015", filepath.Join(dir, "2015_consulates_renamed.xlsx"), func(f *excelize.File) error {
		const sheet = "Data for consulates"
		rows, err := f.GetRows(sheet)
		if err != nil {
			return err
		}
		n := 0
		for i, r := range rows {
			if len(r) < 2 {
				continue
			}
			if to, ok := rename[r[1]]; ok {
				if err := f.SetCellStr(sheet, "B"+strconv.Itoa(i+1), to); err != nil {
					return err
				}
				n++
			}
		}
		if n == 0 {
			return errors.New("no host country renamed")
		}
		return nil
	})
}

// buildCountryCodes loads every source (the given EC workbook, the tiny
// inputs of the others) with the given reference directory and runs the
// transforms and checks up to observations_stored, after which
// unmapped_countries runs.
func buildCountryCodes(t *testing.T, ecPath, refDir string) (*sql.Conn, error) {
	t.Helper()
	ctx := context.Background()
	cfg := tinyConfig(t, sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ecPath, Year: 2015}}})
	cfg.Sources.Reference.Dir = refDir
	srcs := sources.All(cfg.SourceConfig())
	inputs, err := describeInputs(ctx, srcs)
	if err != nil {
		t.Fatal(err)
	}
	conn := openDuckConn(t)
	return conn, build(ctx, conn, srcs, inputs, cfg.Limits, "", &Report{}, quietLog(), "observations_stored")
}

// hostCodes returns the code of the host country of every data row.
func hostCodes(t *testing.T, conn *sql.Conn) map[int]string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `
		SELECT r."row", coalesce(h.code, '') FROM raw_ec_schengen_consulates r
		JOIN country_codes h ON h.source = 'ec_schengen_consulates' AND h.field = 'host_country'
		 AND h.spelling = r.host_country AND h.file = r.file`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var row int
		var code string
		if err := rows.Scan(&row, &code); err != nil {
			t.Fatal(err)
		}
		out[row] = code
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestISONamesMapWithoutAliases renames host countries of a real workbook to
// ISO 3166 official and withdrawn names: with the shipped reference and no
// new alias line every row maps to the code it had under the EC's own
// spelling. A bare CONGO maps through the alias line that decides it; a
// bare KOREA is refused with both candidates, the consulate town of its
// rows and the alias file to edit, and one alias line for it makes the
// workbook load.
func TestISONamesMapWithoutAliases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	orig, err := buildCountryCodes(t, ectest.File(t, "2015"), refDir)
	if err != nil {
		t.Fatal(err)
	}
	want := hostCodes(t, orig)

	rename := map[string]string{}
	for from, to := range isoHostNames {
		rename[from] = to.name
	}
	conn, err := buildCountryCodes(t, renameHosts(t, t.TempDir(), rename), refDir)
	if err != nil {
		t.Fatalf("ISO names refused: %v", err)
	}
	got := hostCodes(t, conn)
	if len(got) != len(want) || len(want) < 1000 {
		t.Fatalf("%d rows mapped, want %d", len(got), len(want))
	}
	for row, code := range want {
		if got[row] != code {
			t.Errorf("row %d: host country %q, want %q", row, got[row], code)
		}
	}
	for from, to := range isoHostNames {
		var code, matched string
		err := conn.QueryRowContext(ctx, `SELECT code, matched FROM country_codes
			WHERE field = 'host_country' AND spelling = ?`, to.name).Scan(&code, &matched)
		if err != nil {
			t.Errorf("%s (was %s): %v", to.name, from, err)
			continue
		}
		if code != to.code || matched != "iso_name" {
			t.Errorf("%s -> %s by %s, want %s derived from the ISO names", to.name, code, matched, to.code)
		}
	}

	t.Run("bare CONGO maps by its alias line", func(t *testing.T) {
		renamed := map[string]string{"CONGO (BRAZZAVILLE)": "CONGO"}
		conn, err := buildCountryCodes(t, renameHosts(t, t.TempDir(), renamed), refDir)
		if err != nil {
			t.Fatalf("bare CONGO refused: %v", err)
		}
		got := hostCodes(t, conn)
		for row, code := range want {
			if got[row] != code {
				t.Errorf("row %d: host country %q, want %q", row, got[row], code)
			}
		}
		var code, matched string
		err = conn.QueryRowContext(ctx, `SELECT code, matched FROM country_codes WHERE field = 'host_country' AND spelling = 'CONGO'`).Scan(&code, &matched)
		if err != nil || code != "CG" || matched != "alias" {
			t.Errorf("CONGO -> %s by %s (%v), want CG by alias", code, matched, err)
		}
	})

	t.Run("bare KOREA is ambiguous", func(t *testing.T) {
		rename["SOUTH KOREA"] = "KOREA"
		path := renameHosts(t, t.TempDir(), rename)
		_, err := buildCountryCodes(t, path, refDir)
		var ce *CheckError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want a failed check", err)
		}
		msg := err.Error()
		for _, w := range []string{"unmapped_countries: 1 problem\n", `value=KOREA`, "rows=17", filepath.Base(path),
			"KP (Korea, Democratic People's Republic of)", "KR (Korea, Republic of)", "; consulates in SEOUL\"",
			"add the line ec_name,KOREA,<code>,<why> to " + filepath.Join(refDir, "country_aliases_ec.csv")} {
			if !strings.Contains(msg, w) {
				t.Errorf("error does not contain %q:\n%s", w, msg)
			}
		}

		ref := copyReference(t)
		f, err := os.OpenFile(filepath.Join(ref, "country_aliases_ec.csv"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("ec_name,KOREA,KR,the consulates are in SEOUL\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		conn, err := buildCountryCodes(t, path, ref)
		if err != nil {
			t.Fatalf("with an alias line for KOREA: %v", err)
		}
		got := hostCodes(t, conn)
		for row, code := range want {
			if got[row] != code {
				t.Errorf("row %d: host country %q, want %q", row, got[row], code)
			}
		}
	})
}

// TestUnmappedListsEverySpelling renames more host countries than a report
// shows by default to names no reference knows: every one is listed.
func TestUnmappedListsEverySpelling(t *testing.T) {
	t.Parallel()
	rename := map[string]string{}
	for _, from := range []string{"IRAN", "VIETNAM", "SYRIA", "LIBYA", "TAIWAN", "MOLDOVA", "TANZANIA"} {
		rename[from] = "ATLANTIS " + from
	}
	_, err := buildCountryCodes(t, renameHosts(t, t.TempDir(), rename), refDir)
	if err == nil {
		t.Fatal("unknown names accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "unmapped_countries: 7 problems\n") {
		t.Errorf("want 7 problems, all shown:\n%s", msg)
	}
	for _, to := range rename {
		if !strings.Contains(msg, `value="`+to+`"`) {
			t.Errorf("%s not listed:\n%s", to, msg)
		}
	}
	if !strings.Contains(msg, "no alias line and no ISO 3166 name matches") {
		t.Errorf("no reason given:\n%s", msg)
	}
}

// copyReference copies the shipped reference directory into a temp dir.
func copyReference(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(refDir, "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("reference files: %v %v", files, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
