package sources

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
)

const ruMFACSV = "testdata/ru_mfa_published/ru_mfa_visas_published.csv"

func TestRUMFARowsAndCitations(t *testing.T) {
	conn := openTestDB(t)
	st, err := NewRUMFA(RUMFAConfig{Path: ruMFACSV}).Load(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Tables[ruMFATable]; got != 4 {
		t.Errorf("rows = %d, want 4", got)
	}
	type row struct {
		line                      int64
		indicator, recipient      string
		year                      int
		value                     float64
		precision, publisher, url string
		published                 sql.NullString
	}
	for _, want := range []row{
		{2, "visas_issued", "WORLD", 2022, 512000, "rounded to thousands", "Interfax (citing Russian MFA Consular Department)", "https://interfax.com/newsroom/top-stories/99044/", sql.NullString{String: "2024-02-02", Valid: true}},
		{3, "visas_issued", "WORLD", 2023, 846000, "rounded to thousands", "Interfax (citing Russian MFA Consular Department)", "https://interfax.com/newsroom/top-stories/99044/", sql.NullString{String: "2024-02-02", Valid: true}},
		{4, "e_visas_issued", "WORLD", 2023, 170000, "rounded to thousands", "TASS (citing Russian MFA Consular Department)", "https://tass.com/politics/1744797", sql.NullString{String: "2024-02-11", Valid: true}},
		// The seed article's figure: no URL, no date, kept with its citation.
		{5, "visas_issued", "EU", 2023, 158972, "exact", "news article citing Russian MFA data", "", sql.NullString{}},
	} {
		var got row
		err := conn.QueryRowContext(context.Background(), `SELECT line, indicator, recipient, year, value, precision,
			source_publisher, source_url, CAST(published AS VARCHAR) FROM raw_ru_mfa_published WHERE line = ?`, want.line).
			Scan(&got.line, &got.indicator, &got.recipient, &got.year, &got.value, &got.precision, &got.publisher, &got.url, &got.published)
		if err != nil {
			t.Fatalf("line %d: %v", want.line, err)
		}
		if got != want {
			t.Errorf("line %d = %+v, want %+v", want.line, got, want)
		}
	}
	var title, note string
	err = conn.QueryRowContext(context.Background(), `SELECT source_title, note FROM raw_ru_mfa_published WHERE line = 5`).Scan(&title, &note)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(title, "France grants temporary visas to six Russian deserters") || !strings.Contains(note, "+0.7% on 2022 and -37.7% on 2021") {
		t.Errorf("line 5 title %q note %q: citation not kept whole", title, note)
	}
}

// TestRUMFABadInputs changes one field of the real curated file per case.
func TestRUMFABadInputs(t *testing.T) {
	real := unhcrReadFixture(t, ruMFACSV)
	const line2 = "visas_issued,RU,WORLD,2022,512000,visas,rounded to thousands,Interfax (citing Russian MFA Consular Department),"
	swap := func(old, new string) func() []byte {
		return func() []byte {
			if !bytes.Contains(real, []byte(old)) {
				t.Fatalf("fixture lacks %q", old)
			}
			return bytes.Replace(real, []byte(old), []byte(new), 1)
		}
	}
	for _, tc := range []struct {
		name          string
		data          func() []byte
		line          int64
		column, value string
	}{
		{"header renamed", swap("indicator,issuer", "indicator,country"), 1, "header", ""},
		{"year not an integer", swap(line2, strings.Replace(line2, ",2022,", ",2022.5,", 1)), 2, "year", "2022.5"},
		{"value with separators", swap(line2, strings.Replace(line2, ",512000,", ",\"512,000\",", 1)), 2, "value", "512,000"},
		{"negative value", swap(line2, strings.Replace(line2, ",512000,", ",-512000,", 1)), 2, "value", "-512000"},
		{"unknown indicator", swap(line2, strings.Replace(line2, "visas_issued,", "visas_applied,", 1)), 2, "indicator", "visas_applied"},
		{"missing publisher", swap(line2, strings.Replace(line2, "Interfax (citing Russian MFA Consular Department)", "", 1)), 2, "source_publisher", ""},
		{"bad date", swap(",2024-02-11,", ",11.02.2024,"), 4, "published", "11.02.2024"},
		{"missing field", swap("https://tass.com/politics/1744797,2024-02-11,", "https://tass.com/politics/1744797,"), 4, "note", ""},
		{"invalid UTF-8", swap("interview with Alexey Klimov", "interview with \xc0lexey Klimov"), 4, "source_title", "interview with \xc0lexey Klimov"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unhcrWriteTemp(t, "ru_mfa.csv", tc.data())
			_, err := NewRUMFA(RUMFAConfig{Path: p}).Load(context.Background(), openTestDB(t))
			var re *LocatedError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *LocatedError", err)
			}
			if re.File != p || re.Line != tc.line || re.Column != tc.column {
				t.Errorf("error at %s line %d column %q, want %s line %d column %q (%v)", re.File, re.Line, re.Column, p, tc.line, tc.column, err)
			}
			if tc.value != "" && re.Value != tc.value {
				t.Errorf("value = %q, want %q", re.Value, tc.value)
			}
		})
	}
}
