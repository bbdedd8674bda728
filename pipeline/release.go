package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// publishedTable is one public table of a release.
type publishedTable struct {
	name    string
	orderBy string // key order of the rows in every file
	sheet   bool   // also a sheet of the workbook
	title   string // what the table is, for people
}

// publishedTables is the closed list of what a release contains.
var publishedTables = []publishedTable{
	{name: "headlines", orderBy: "rank", sheet: true,
		title: "The key figures, each with how it was computed and from which file"},
	{name: "observations", orderBy: "dataset, indicator, reporter, partner, location, year, period, sex, age, applicant_type, decision",
		title: "Every published number in long format, one row per number"},
	{name: "schengen_host_country_year", orderBy: "host_country, year", sheet: true,
		title: "Schengen visas by country where the consulates are located, per year"},
	{name: "schengen_state_year", orderBy: "state, year", sheet: true,
		title: "Schengen visas by Schengen State handling the applications, per year"},
	{name: "asylum_citizenship_year", orderBy: "reporter, citizenship, year", sheet: true,
		title: "Asylum applicants and first-instance decisions by reporting country and citizenship, per year (Eurostat)"},
	{name: "asylum_sources_compared", orderBy: "asylum_country, origin, year", sheet: true,
		title: "Eurostat and UNHCR asylum applications side by side, with the difference"},
	{name: "claims", orderBy: "claim_id", sheet: true,
		title: "Figures published by others, checked against the data: reproduced, differs, or not reproducible"},
	{name: "observation_changes", orderBy: "dataset, indicator, reporter, partner, location, period, sex, age, applicant_type, decision",
		title: "What changed in observations against the previous release: new, removed and revised numbers"},
	{name: "ru_mfa_visas_published", orderBy: "indicator, recipient, year, source_publisher", sheet: true,
		title: "Visas issued by Russia as published by its Foreign Ministry, with citations"},
}

// sourceNotes documents each upstream source for the workbook and the
// Parquet metadata.
var sourceNotes = []output.SourceNote{
	{
		Name:      "ec_schengen_consulates",
		Publisher: "European Commission, DG Migration and Home Affairs: Visa statistics for consulates (yearly workbooks, sheet \"Data for consulates\")",
		URL:       "https://home-affairs.ec.europa.eu/policies/schengen-borders-and-visa/visa-policy/short-stay-visas-issued-schengen-countries_en",
		Licence:   "Commission reuse policy (Decision 2011/833/EU), attribution required",
	},
	{
		Name:      "eurostat_asylum",
		Publisher: "Eurostat: asylum applicants (migr_asyappctza, migr_asyappctzm) and first-instance decisions (migr_asydcfsta)",
		URL:       "https://ec.europa.eu/eurostat/web/migration-asylum/asylum/database",
		Licence:   "CC BY 4.0 (Eurostat copyright notice), attribution required",
	},
	{
		Name:      "unhcr",
		Publisher: "UNHCR, the UN Refugee Agency: Refugee Data Finder (asylum applications and decisions; exports and population API)",
		URL:       "https://www.unhcr.org/refugee-statistics/",
		Licence:   "CC BY 4.0",
	},
	{
		Name:      "ru_mfa_published",
		Publisher: "Russian Ministry of Foreign Affairs, Consular Department, as reported by news agencies (curated by visastats, one published number a row with its citation)",
		URL:       "https://interfax.com/newsroom/top-stories/99044/ and others, per row",
		Licence:   "Published facts with citations; see each row's source",
	},
}

// WorkbookName is the journalists' workbook in every release.
const WorkbookName = "visastats.xlsx"

func selectTable(cat []vsql.Column, t publishedTable) string {
	var cols []string
	for _, c := range cat {
		if c.Table == t.name {
			cols = append(cols, vsql.QuoteIdent(c.Name))
		}
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + vsql.QuoteIdent(t.name) + " ORDER BY " + t.orderBy
}

// writeRelease writes every published table as Parquet and the workbook into
// dir, and records the files in rep.
func writeRelease(ctx context.Context, conn *sql.Conn, dir string, rep *Report, log *slog.Logger) error {
	cat, err := vsql.Catalogue()
	if err != nil {
		return err
	}
	for _, t := range publishedTables {
		start := time.Now()
		file := t.name + ".parquet"
		meta, err := parquetMetadata(cat, t, rep)
		if err != nil {
			return err
		}
		n, err := arrowCopy(ctx, conn, selectTable(cat, t), func(r array.RecordReader) (int64, error) {
			return output.WriteParquet(ctx, filepath.Join(dir, file), r, output.ParquetOptions{Metadata: meta})
		})
		if err != nil {
			return fmt.Errorf("export %s: %w", file, err)
		}
		if err := verifyParquet(ctx, conn, filepath.Join(dir, file), selectTable(cat, t)); err != nil {
			return err
		}
		if err := rep.addFile(dir, file, n); err != nil {
			return err
		}
		rep.stage(log, "export", file, n, start)
	}

	start := time.Now()
	var sheets []output.TableSheet
	for _, t := range publishedTables {
		if !t.sheet {
			continue
		}
		query := selectTable(cat, t)
		var cols []output.Column
		for _, c := range cat {
			if c.Table == t.name {
				cols = append(cols, output.Column{Header: c.Name, Format: output.Format(c.Format)})
			}
		}
		sheets = append(sheets, output.TableSheet{Name: t.name, Columns: cols,
			Query: func(ctx context.Context) (*sql.Rows, error) { return conn.QueryContext(ctx, query) }})
	}
	counts, err := output.WriteWorkbook(ctx, filepath.Join(dir, WorkbookName), aboutSheet(cat, rep), sheets)
	if err != nil {
		return fmt.Errorf("export %s: %w", WorkbookName, err)
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	if err := rep.addFile(dir, WorkbookName, total); err != nil {
		return err
	}
	rep.stage(log, "export", WorkbookName, total, start)
	return nil
}

func (r *Report) addFile(dir, name string, rows int64) error {
	size, sum, err := sources.FileDigest(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	r.Files = append(r.Files, FileInfo{Name: name, Rows: rows, Size: size, SHA256: sum})
	return nil
}

// parquetMetadata is the key-value metadata of one Parquet file: where the
// numbers come from, under which licence, which release, and each column's
// unit and meaning.
func parquetMetadata(cat []vsql.Column, t publishedTable, rep *Report) (map[string]string, error) {
	type colDoc struct {
		Type        string `json:"type"`
		Unit        string `json:"unit,omitempty"`
		Description string `json:"description"`
	}
	cols := map[string]colDoc{}
	units := map[string]string{}
	for _, c := range cat {
		if c.Table == t.name {
			cols[c.Name] = colDoc{Type: c.Type, Unit: c.Unit, Description: c.Description}
			if c.Unit != "" {
				units[c.Name] = c.Unit
			}
		}
	}
	colsJSON, err := json.Marshal(cols)
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", t.name, err)
	}
	unitsJSON, err := json.Marshal(units)
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", t.name, err)
	}
	var srcs, licences []string
	for _, s := range sourceNotes {
		srcs = append(srcs, s.Publisher+" <"+s.URL+">")
		licences = append(licences, s.Name+": "+s.Licence)
	}
	return map[string]string{
		"table":        t.name,
		"title":        t.title,
		"source":       strings.Join(srcs, "; "),
		"licence":      strings.Join(licences, "; "),
		"release":      rep.Release,
		"generated_at": rep.GeneratedAt.Format(time.RFC3339),
		"generator":    "visastats " + Version,
		"columns":      string(colsJSON),
		"column_units": string(unitsJSON),
	}, nil
}

func aboutSheet(cat []vsql.Column, rep *Report) output.AboutSheet {
	a := output.AboutSheet{
		Title: "visastats: Schengen visa statistics",
		Paragraphs: []string{
			"Visa applications and decisions at the consulates of the Schengen States, per country where the consulates are located and per Schengen State, from the European Commission's yearly \"Visa statistics for consulates\" workbooks. Every number is computed from the published workbooks; totals, refusal rates and changes are recomputed, not copied.",
			"Important: the EC data count applications lodged at consulates located in a country, not applications by its nationals. \"Russia\" here means applications lodged at Schengen consulates located in Russia, whatever the applicants' nationality.",
			"The EC not-issued (refusal) rate is N / (J + M + N): uniform visas not issued divided by uniform visas issued, LTVs issued and uniform visas not issued. Changes are fractions shown as percentages (-24.3% means a fall by a quarter).",
		},
		Facts: [][2]string{
			{"Release", rep.Release},
			{"Generated at (UTC)", rep.GeneratedAt.Format("2006-01-02 15:04:05")},
			{"Generated by", "visastats " + Version},
		},
	}
	for _, s := range sourceNotes {
		var files []string
		for _, in := range rep.Inputs {
			if in.Source == s.Name {
				files = append(files, fmt.Sprintf("%s (sha256 %s)", filepath.Base(in.Path), in.SHA256[:12]))
			}
		}
		s.Files = strings.Join(files, "\n")
		a.Sources = append(a.Sources, s)
	}
	for _, t := range publishedTables {
		if !t.sheet {
			continue
		}
		for _, c := range cat {
			if c.Table == t.name {
				a.Definitions = append(a.Definitions, output.Definition{Sheet: t.name, Column: c.Name, Unit: c.Unit, Meaning: c.Description})
			}
		}
	}
	return a
}

// verifyParquet reads a written Parquet file back and compares it, row for
// row, with the query it was written from: a file that does not round-trip
// is never published.
func verifyParquet(ctx context.Context, conn *sql.Conn, path, query string) error {
	var missing, extra int64
	q := `SELECT
		(SELECT count(*) FROM (SELECT * FROM (` + query + `) EXCEPT ALL SELECT * FROM read_parquet($1))),
		(SELECT count(*) FROM (SELECT * FROM read_parquet($1) EXCEPT ALL SELECT * FROM (` + query + `)))`
	if err := conn.QueryRowContext(ctx, q, path).Scan(&missing, &extra); err != nil {
		return fmt.Errorf("verify %s: %w", filepath.Base(path), err)
	}
	if missing != 0 || extra != 0 {
		return fmt.Errorf("verify %s: the file does not match its table (%d rows missing, %d unexpected)", filepath.Base(path), missing, extra)
	}
	return nil
}
