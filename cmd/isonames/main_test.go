package main

import (
	"bytes"
	"os"
	"testing"
)

// TestShippedFileIsCurrent regenerates the names from the iso-codes lists
// installed on this machine and compares them with the shipped CSV, so that
// the file in the repository is what the generator makes. Machines without
// iso-codes skip it.
func TestShippedFileIsCurrent(t *testing.T) {
	const dir = "/usr/share/iso-codes/json"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("iso-codes not installed: %v", err)
	}
	rows, _, err := names(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := write(&got, rows); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../data/reference/iso3166_names.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("data/reference/iso3166_names.csv differs from the installed iso-codes lists: run make iso-names and review the diff")
	}
}

// TestWithdrawnSuccessors checks the alpha-4 rule on real entries.
func TestWithdrawnSuccessors(t *testing.T) {
	const dir = "/usr/share/iso-codes/json"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("iso-codes not installed: %v", err)
	}
	rows, skipped, err := names(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if r.Kind == "withdrawn" {
			got[r.Name] = r.Code
		}
	}
	for name, code := range map[string]string{
		"Zaire, Republic of": "CD", "East Timor": "TL", "Burma, Socialist Republic of the Union of": "MM",
		"Byelorussian SSR Soviet Socialist Republic": "BY",
	} {
		if got[name] != code {
			t.Errorf("%s -> %q, want %s", name, got[name], code)
		}
	}
	for _, name := range []string{"Serbia and Montenegro", "Netherlands Antilles", "Czechoslovakia, Czechoslovak Socialist Republic", "Yugoslavia, (Socialist) Federal Republic of"} {
		if c, ok := got[name]; ok {
			t.Errorf("%s mapped to %s, want it left out (no single successor)", name, c)
		}
	}
	if len(skipped) == 0 {
		t.Error("nothing left out")
	}
}
