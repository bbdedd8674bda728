package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// publishedTable is one public table of a release.
type publishedTable struct {
	name    string
	orderBy string // key order of the rows in every file
	sheet   string // sheet name in the workbook, "" for none
	csv     bool   // also published as CSV
	key     []string
	title   string // what the table is, for people
	// country names the column a topic workbook filters on, "" when the
	// table is not part of topic workbooks.
	country string
	// notOnSheet lists columns left out of the sheet (kept in the files),
	// for columns that only researchers need.
	notOnSheet []string
	// datasets names the datasets (observations' dataset values) the table
	// is built from, for the files' metadata.
	datasets string
}

// publishedTables is the closed list of what a release contains
// (sql/tables.csv), workbookSheets the sheets of the workbooks in their
// order (workbook_sheets.csv), and sourceNotes documents each upstream
// source for the workbook and the Parquet metadata (sql/sources.csv). The
// files are embedded in the program and read once, when it starts; the
// lists are never changed. When a file is malformed the lists are empty
// and errEmbeddedTables says where (file, line, column): Run, Check and
// SchemaMarkdown return it before anything reads the lists, and the tests
// of package sql fail on it.
var publishedTables, workbookSheets, sourceNotes, errEmbeddedTables = loadEmbeddedTables()

func loadEmbeddedTables() ([]publishedTable, []workbookSheet, []output.SourceNote, error) {
	tables, err := loadPublishedTables()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load the program's list of published tables: %w", err)
	}
	cat, err := vsql.Catalogue()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load the program's catalogue of columns: %w", err)
	}
	sheets, err := loadWorkbookSheets(workbookSheetsCSV, tables, cat)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load the program's layout of the workbooks: %w", err)
	}
	// A table's sheet is named where the workbook is laid out.
	for i := range tables {
		tables[i].sheet = ""
		for _, ws := range sheets {
			if ws.table == tables[i].name {
				tables[i].sheet = ws.sheet
			}
		}
	}
	notes, err := vsql.Sources()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load the program's list of sources: %w", err)
	}
	return tables, sheets, notes, nil
}

func loadPublishedTables() ([]publishedTable, error) {
	tables, err := vsql.Tables()
	if err != nil {
		return nil, err
	}
	out := make([]publishedTable, len(tables))
	for i, t := range tables {
		out[i] = publishedTable{name: t.Name, orderBy: t.OrderBy, csv: t.CSV, key: t.Key, title: t.Title,
			country: t.Country, notOnSheet: t.NotOnSheet, datasets: t.Datasets}
	}
	return out, nil
}

// WorkbookName is the journalists' workbook in every release.
const WorkbookName = "visastats.xlsx"

// tableColumns is the select list of a published table's documented
// columns.
func tableColumns(cat []vsql.Column, t publishedTable) string {
	var cols []string
	for _, c := range cat {
		if c.Table == t.name {
			cols = append(cols, vsql.QuoteIdent(c.Name))
		}
	}
	return strings.Join(cols, ", ")
}

// partitionedColumns lists t's documented columns but the partition
// columns (observationPartitions), which hive folders hold instead.
func partitionedColumns(cat []vsql.Column, t publishedTable) string {
	var cols []string
	for _, c := range cat {
		if c.Table == t.name && !slices.Contains(observationPartitions, c.Name) {
			cols = append(cols, vsql.QuoteIdent(c.Name))
		}
	}
	return strings.Join(cols, ", ")
}

func selectTable(cat []vsql.Column, t publishedTable) string {
	return "SELECT " + tableColumns(cat, t) + " FROM " + vsql.QuoteIdent(t.name) + " ORDER BY " + t.orderBy
}

// writeRelease writes every published table as Parquet (and CSV for the
// marts), the country profiles, the workbooks and CITATION.cff into dir,
// verifying each Parquet file against its table, and records the files in
// rep.
func writeRelease(ctx context.Context, db *sql.DB, conn *sql.Conn, dir string, cfg OutputConfig, rep *Report, log *slog.Logger) error {
	cat, err := vsql.Catalogue()
	if err != nil {
		return err
	}
	e := exporter{db: db, conn: conn, dir: dir, cat: cat, rep: rep, log: log}
	for _, t := range publishedTables {
		if err := e.table(ctx, t, cfg.ObservationsLayout); err != nil {
			return err
		}
	}
	if cfg.Profiles != ProfilesNone {
		if err := writeProfiles(ctx, conn, dir, rep, log); err != nil {
			return err
		}
	}
	workbooks := []workbookSpec{{file: WorkbookName, title: "visastats: Schengen visa and asylum statistics"}}
	for _, tp := range cfg.Topics {
		workbooks = append(workbooks, workbookSpec{file: tp.File, title: tp.Title, country: tp.Country})
	}
	for _, wb := range workbooks {
		start := time.Now()
		n, err := writeWorkbook(ctx, conn, dir, cat, wb, rep)
		if err != nil {
			return fmt.Errorf("export %s: %w", wb.file, err)
		}
		if err := rep.addFile(dir, wb.file, n, wb.description()); err != nil {
			return err
		}
		rep.stage(log, "export", wb.file, n, start)
	}
	if err := writeCitation(dir, rep.Release, rep.GeneratedAt.Format(time.DateOnly)); err != nil {
		return fmt.Errorf("export %s: %w", CitationName, err)
	}
	return rep.addFile(dir, CitationName, -1, "How to cite this release and the producers of its data (Citation File Format)")
}

// exporter writes the published tables of one release into dir from the
// build database (db, and conn, the connection that built it), recording
// each file in rep.
type exporter struct {
	db   *sql.DB
	conn *sql.Conn
	dir  string
	cat  []vsql.Column
	rep  *Report
	log  *slog.Logger
}

// table writes t as Parquet (a partitioned folder for observations in the
// partitioned layout), verified against the table, and as CSV if t has one.
func (e exporter) table(ctx context.Context, t publishedTable, layout string) error {
	meta, err := parquetMetadata(e.cat, t, e.rep)
	if err != nil {
		return err
	}
	if t.name == "observations" && layout == LayoutPartitioned {
		return e.partitioned(ctx, t, meta)
	}
	if err := e.parquet(ctx, t, meta); err != nil {
		return err
	}
	if t.csv {
		return e.csv(ctx, t)
	}
	return nil
}

// parquet writes t.parquet: observations (tens of millions of rows) with
// DuckDB's writer, reading the rows in key order from tables stored in
// that order (copyObservations); the other tables through Arrow, sorted.
func (e exporter) parquet(ctx context.Context, t publishedTable, meta map[string]string) error {
	start := time.Now()
	file := t.name + ".parquet"
	path := filepath.Join(e.dir, file)
	var n int64
	var err error
	if t.name == "observations" {
		n, err = copyObservations(ctx, e.db, e.conn, tableColumns(e.cat, t), path, meta)
	} else {
		n, err = queryArrow(ctx, e.conn, tableColumns(e.cat, t), vsql.QuoteIdent(t.name), t.orderBy, e.rep.Tables[t.name], func(r array.RecordReader) (int64, error) {
			return output.WriteParquet(ctx, path, r, output.ParquetOptions{Metadata: meta})
		})
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", file, err)
	}
	if err := verifyWritten(ctx, e.conn, path, []string{path}, e.cat, t); err != nil {
		return err
	}
	if err := e.rep.addFile(e.dir, file, n, t.title); err != nil {
		return err
	}
	e.rep.stage(e.log, "export", file, n, start)
	return nil
}

// partitioned writes observations as the hive-partitioned folder
// observations/ (copyObservationsPartitioned), verified against the table.
func (e exporter) partitioned(ctx context.Context, t publishedTable, meta map[string]string) error {
	start := time.Now()
	folder := filepath.Join(e.dir, t.name)
	n, files, err := copyObservationsPartitioned(ctx, e.db, e.conn, partitionedColumns(e.cat, t), folder, meta)
	if err != nil {
		return fmt.Errorf("export %s/: %w", t.name, err)
	}
	abs := make([]string, len(files))
	for i, f := range files {
		abs[i] = filepath.Join(folder, f)
	}
	if err := verifyWritten(ctx, e.conn, filepath.Join(folder, "**", "*.parquet"), abs, e.cat, t); err != nil {
		return err
	}
	for _, f := range files {
		if err := e.rep.addFile(e.dir, filepath.Join(t.name, f), -1, t.title+" (one file of the partitioned folder)"); err != nil {
			return err
		}
	}
	e.rep.stage(e.log, "export", t.name+"/", n, start)
	return nil
}

// csv writes t.csv in t's order.
func (e exporter) csv(ctx context.Context, t publishedTable) error {
	start := time.Now()
	file := t.name + ".csv"
	rows, err := e.conn.QueryContext(ctx, selectTable(e.cat, t))
	if err != nil {
		return fmt.Errorf("export %s: %w", file, err)
	}
	n, err := output.WriteCSV(ctx, filepath.Join(e.dir, file), rows)
	rows.Close()
	if err != nil {
		return fmt.Errorf("export %s: %w", file, err)
	}
	if err := e.rep.addFile(e.dir, file, n, t.title); err != nil {
		return err
	}
	e.rep.stage(e.log, "export", file, n, start)
	return nil
}

// writePackage writes datapackage.json into the release folder dir, once
// every other file, run.json included, is written, and validates it
// against the files.
func writePackage(dir string, cfg OutputConfig, rep *Report, log *slog.Logger) error {
	start := time.Now()
	cat, err := vsql.Catalogue()
	if err != nil {
		return err
	}
	if err := writeDataPackage(dir, cat, cfg, rep); err != nil {
		return err
	}
	if err := output.ValidateDataPackage(dir); err != nil {
		return fmt.Errorf("export %s: %w", DataPackageName, err)
	}
	log.Info("export", "table", DataPackageName, "rows", len(rep.Files)+1, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// workbookSpec is one workbook of a release: the main one, or a topic
// workbook restricted to one country.
type workbookSpec struct {
	file, title string
	country     string // ISO alpha-2; "" for the main workbook
}

// description says what the workbook is, for the file lists.
func (wb workbookSpec) description() string {
	if wb.country == "" {
		return "The journalists' workbook: Contents, About (sources, licences, how to cite), Headlines, a chart, the tables people quote (the two UNHCR-Eurostat comparisons restricted to the EU and its member states in the ten latest years), Claims and Definitions"
	}
	return wb.title + ": the workbook's sheets restricted to " + wb.country + ", and the charts of its country profile"
}

func writeWorkbook(ctx context.Context, conn *sql.Conn, dir string, cat []vsql.Column, wb workbookSpec, rep *Report) (int64, error) {
	var sheets []output.TableSheet
	var defs []output.Definition
	headlinesSheet := "" // the sheet of the headlines, "" when wb has none
	for _, ws := range workbookSheets {
		i := slices.IndexFunc(publishedTables, func(t publishedTable) bool { return t.name == ws.table })
		t := publishedTables[i]
		if wb.country != "" && !ws.inTopic(t, wb.country) {
			continue
		}
		query, args, sheetCat, err := sheetQuery(ctx, conn, cat, t, ws, wb.country)
		if err != nil {
			return 0, err
		}
		var cols []output.Column
		keys := 0
		for j, c := range sheetCat {
			cols = append(cols, output.Column{Header: c.Name, Label: c.Label, Format: output.Format(c.Format)})
			defs = append(defs, output.Definition{Sheet: ws.sheet, Column: c.Name, Label: c.Label, Unit: c.Unit, Meaning: c.Description})
			if c.Name == ws.keyThrough {
				keys = j + 1
			}
		}
		if t.name == "headlines" {
			headlinesSheet = ws.sheet
		}
		sh := output.TableSheet{Name: ws.sheet, Columns: cols, Overflow: output.OverflowSplit, Description: t.title, KeyColumns: keys, Present: claimPresent(sheetCat),
			Query: func(ctx context.Context) (*sql.Rows, error) { return conn.QueryContext(ctx, query, args...) }}
		if wb.country == "" {
			sh.Note = ws.mainNote
		}
		sheets = append(sheets, sh)
	}
	about := aboutSheet(rep, wb, headlinesSheet)
	about.Definitions = defs
	opts := output.WorkbookOptions{Definitions: output.DefinitionsOnSheet, Created: rep.GeneratedAt}
	if wb.country == "" {
		chart, err := headlineChart(ctx, conn)
		if err != nil {
			return 0, err
		}
		opts.Charts = []output.ChartSheet{chart}
	} else {
		// A topic workbook draws its country's profile charts: the same
		// series as the page countries/<code>.html.
		charts, err := profileChartsOf(ctx, conn, wb.country)
		if err != nil {
			return 0, err
		}
		var group output.ChartsSheet
		for _, c := range charts[wb.country] {
			group.Charts = append(group.Charts, c.chart)
		}
		if len(group.Charts) > 0 {
			group.Name = "Charts"
			opts.ChartGroups = []output.ChartsSheet{group}
		}
	}
	counts, err := output.WriteWorkbookOptions(ctx, filepath.Join(dir, wb.file), about, sheets, opts)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	return total, nil
}

// headlineChart is the main workbook's chart: uniform visa applications
// lodged at the consulates located in the headline country, by year.
func headlineChart(ctx context.Context, conn *sql.Conn) (output.ChartSheet, error) {
	var name string
	if err := conn.QueryRowContext(ctx, `SELECT name FROM ref_countries WHERE code = ?`, HeadlineCountry).Scan(&name); err != nil {
		return output.ChartSheet{}, fmt.Errorf("chart country %s: %w", HeadlineCountry, err)
	}
	return output.ChartSheet{
		Name:  "Chart",
		Title: "Uniform visa applications lodged at Schengen consulates located in " + name + ", by year",
		Kind:  output.ChartColumn,
		Columns: []output.Column{
			{Header: "year", Label: "Year", Format: output.FormatCode},
			{Header: "uniform_applied", Label: "Uniform visa applications", Format: output.FormatCount},
		},
		Query: func(ctx context.Context) (*sql.Rows, error) {
			// Every year from the first to the last, so that a year
			// without a file (2011) is an empty slot, not a closed gap.
			// Uniform visa applications are the count every workbook
			// since 2009 has.
			return conn.QueryContext(ctx, `WITH h AS (
					SELECT year, uniform_applied FROM schengen_host_country_year WHERE host_country = $1)
				SELECT CAST(y.year AS VARCHAR) AS year, h.uniform_applied
				FROM (SELECT unnest(range(min(year), max(year) + 1)) AS year FROM h) y
				LEFT JOIN h USING (year)
				ORDER BY y.year`, HeadlineCountry)
		},
	}, nil
}

// sheetColumns is the catalogue without the columns t leaves off its sheet.
func sheetColumns(cat []vsql.Column, t publishedTable) []vsql.Column {
	var out []vsql.Column
	for _, c := range cat {
		if c.Table == t.name && slices.Contains(t.notOnSheet, c.Name) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// addFile records a published file; rows < 0 means a part of a table.
func (r *Report) addFile(dir, name string, rows int64, description string) error {
	size, sum, err := sources.FileDigest(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	r.Files = append(r.Files, release.File{Name: name, Rows: rows, Size: size, SHA256: sum, Description: description})
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
		"dataset":      t.datasets,
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

// aboutSheet is the About sheet of workbook wb; headlines is the name of
// its sheet of headlines, "" when it has none.
func aboutSheet(rep *Report, wb workbookSpec, headlines string) output.AboutSheet {
	flags := "Flags are Eurostat's, as published: b break in series, c/C confidential, d definition differs, e estimated, p provisional, u low reliability; an empty cell is not available (never 0). "
	if headlines != "" {
		flags += "The " + headlines + " sheet says how each key figure was computed and from which file. "
	}
	flags += "The Claims sheet shows which published figures these data reproduce. Every column is defined on the Definitions sheet."
	a := output.AboutSheet{
		Title: wb.title,
		Paragraphs: []string{
			"Schengen visa applications and decisions per country where the consulates are located and per Schengen State (European Commission, Visa statistics for consulates); asylum applicants and first-instance decisions by citizenship (Eurostat) beside UNHCR's counts; visas issued by Russia as published by its Foreign Ministry; and published claims checked against these data. Totals, rates and changes are recomputed from the published files, never copied.",
			"Important: the EC data count applications lodged at consulates located in a country, not applications by its nationals. \"Russia\" there means applications lodged at Schengen consulates located in Russia, whatever the applicants' nationality. Asylum figures, by contrast, are by citizenship (Eurostat) or origin (UNHCR).",
			"The EC not-issued (refusal) rate is N / (J + M + N): uniform visas not issued divided by uniform visas issued, LTVs issued and uniform visas not issued. Changes and rates are fractions shown as percentages. Eurostat rounds its counts to 5, so parts need not add up to totals.",
			flags,
			"Whole and partial periods: every figure knows whether its period is complete (observations: period_complete, period_label). UNHCR publishes a mid-year release, whose latest year covers January-June only, and a full-year release. A figure from an input known to cover part of a year (its UNHCR release runs to 30 June, as data/curated/unhcr_releases.csv states for that exact file, or data/curated/period_coverage.csv says so for any input, each by the file's SHA-256 and with how this is known) is shown with the months it covers, e.g. \"2023 (Jan-Jun)\", and no change, rate of change, comparison or headline sets it beside a whole year. Labels say which countries a sum covers (for example the number of countries of asylum in the UNHCR data), not more. Eurostat's p flag marks provisional figures.",
			"What the sheets leave out: a row whose numbers are all empty or zero (Eurostat and UNHCR list every pair of countries, most without a single application), and a column that is empty in every row (a dataset that is not loaded). The two tables that compare UNHCR with Eurostat have a row for every pair of countries and year, about 100,000 each: their sheets in " + WorkbookName + " carry the EU and its member states as countries of asylum, in the ten latest years, and say so in their first row. The Contents sheet lists every sheet with its rows; the CSV and Parquet files of the same release keep every row and column.",
			"How to cite: " + HowToCite(rep.Release),
		},
		Facts: [][2]string{
			{"Release", rep.Release},
			{"Generated at (UTC)", rep.GeneratedAt.Format("2006-01-02 15:04:05")},
			{"Generated by", "visastats " + Version},
		},
	}
	if wb.country != "" {
		a.Facts = append(a.Facts, [2]string{"Topic", "rows concerning " + wb.country + " only (as host country of consulates, citizenship or origin, or issuer); the full tables are in " + WorkbookName})
	}
	for _, s := range sourceNotes {
		var inputs []release.Input
		for _, in := range rep.Inputs {
			if in.Source == s.Name {
				inputs = append(inputs, in)
			}
		}
		s.Files = aboutFiles(inputs)
		a.Sources = append(a.Sources, s)
	}
	a.Sections = append(a.Sections, coverageSection(rep.Coverage))
	a.Sections = append(a.Sections, upstreamIssuesSection(rep.UpstreamIssues))
	return a
}

// A source's inputs are listed by name on the About sheet up to
// aboutFilesListed; a source with more (thirty UNHCR exports, the pages of
// a live API query) shows how many, the first aboutFilesShown and where
// the rest are, so that its cell stays readable: one line a file would
// pass Excel's row height of 409 points at 27.
const (
	aboutFilesListed = 20
	aboutFilesShown  = 10
)

// aboutFiles is the About sheet's list of one source's inputs, a line
// each: the file's name and the start of its SHA-256.
func aboutFiles(inputs []release.Input) string {
	shown, lines := inputs, []string(nil)
	if len(inputs) > aboutFilesListed {
		shown = inputs[:aboutFilesShown]
		lines = append(lines, fmt.Sprintf("%d inputs, the first %d:", len(inputs), len(shown)))
	}
	for _, in := range shown {
		lines = append(lines, fmt.Sprintf("%s (sha256 %.12s)", filepath.Base(in.Path), in.SHA256))
	}
	if more := len(inputs) - len(shown); more > 0 {
		lines = append(lines, fmt.Sprintf("and %d more: %s, beside this workbook, lists every input with its size and SHA-256.", more, release.ReportName))
	}
	return strings.Join(lines, "\n")
}
