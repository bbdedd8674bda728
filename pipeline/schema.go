package pipeline

import (
	"fmt"
	"strings"

	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// SchemaMarkdown documents the public tables of a release (docs/schema.md):
// every table with its files and key, every column with its type, unit and
// meaning, from the same catalogue the pipeline checks the tables against;
// then the Eurostat codings and flags, from the code lists in
// eurostatCodeLists (the directory of eurostat_codes.csv).
func SchemaMarkdown(eurostatCodeLists string) (string, error) {
	if errEmbeddedTables != nil {
		return "", errEmbeddedTables
	}
	cat, err := vsql.Catalogue()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# visastats: the public tables\n\n")
	b.WriteString("Generated from `sql/columns.csv` by `go test ./pipeline -run TestSchemaDoc -update`; a test checks\n")
	b.WriteString("it against this file and against the Parquet files of a real run. Every release in\n")
	b.WriteString("`<output.dir>/releases/<id>/` (and `latest/`) holds each table as Parquet (zstd, typed, sorted by\n")
	b.WriteString("key, key-value metadata: `table`, `title`, `source`, `licence`, `release`, `generated_at`,\n")
	b.WriteString("`columns` with type, unit and meaning), the marts also as CSV (UTF-8, `.` decimal, ISO dates,\n")
	b.WriteString("empty = not available), the workbooks, `datapackage.json` (Frictionless Data Package) and `run.json`.\n")
	b.WriteString("With `output.observations_layout: partitioned`, observations is the folder\n")
	b.WriteString("`observations/dataset=<dataset>/year=<year>/part-0.parquet` instead of one file.\n")
	b.WriteString("With `output.profiles: all` (the default) the release also has `countries/`: `index.html`, a page\n")
	b.WriteString("`<ISO2>.html` per country, and each of its charts as `<ISO2>/<chart>.svg`, `.png` and `.csv` (the\n")
	b.WriteString("numbers drawn: the period, one column per series, a column naming a partial period), with\n")
	b.WriteString("`countries/charts.json` listing every chart's country, title, unit, source, notes and files; each\n")
	b.WriteString("chart's numbers come from the marts below (README, Country profiles).\n\n")
	b.WriteString("In the CSV files, a text value that a spreadsheet would evaluate as a formula (one that starts\n")
	b.WriteString("with `=`, `@`, a tab or a carriage return, or with `+` or `-` and is not a number such as `-0.24`)\n")
	b.WriteString("is written with a leading `'`, so that spreadsheets show it as text: `'=SUM(M277:M2036)`. Numbers,\n")
	b.WriteString("dates and booleans never are, so readers type their columns as before. To get the value as in the\n")
	b.WriteString("Parquet files, remove the first `'` of a text value whose rest, after its leading quotes, starts so.\n\n")
	b.WriteString("Rates and changes are fractions (-0.2428 is -24.28%). Counts that the source says are not\n")
	b.WriteString("available are empty (NULL), never 0. Country codes are ISO 3166-1 alpha-2 (`XK` Kosovo), or\n")
	b.WriteString("Eurostat aggregate codes (`EU27_2020`, `EU28`, ...), `STLS` stateless, `UNK` unknown.\n")
	b.WriteString("\n### Completeness\n\n")
	b.WriteString("Every observation says whether its period is complete (`period_complete`) and how to read it\n")
	b.WriteString("(`period_label`: `2023`, or `2023 (Jan-Jun)` when the input covers only those months). UNHCR publishes\n")
	b.WriteString("a mid-year release, whose latest year covers January-June, and a full-year release. How far a UNHCR\n")
	b.WriteString("input's figures run is stated in `data/curated/unhcr_releases.csv` (`data_through`, by the input's\n")
	b.WriteString("content SHA-256, decompressed if gzipped) or read from an export's extraction date; a page of UNHCR's\n")
	b.WriteString("API, which does not say which release it serves, is dated by UNHCR's release calendar\n")
	b.WriteString("(`data/reference/unhcr_release_calendar.csv`): the newest release published before the day the page was\n")
	b.WriteString("retrieved says how far its figures run, and a year the API returns that no such release covers is read\n")
	b.WriteString("as January-June until the calendar has its release (the warning check `unhcr_release_calendar_current`\n")
	b.WriteString("names the year). For an input of any source,\n")
	b.WriteString("`data/curated/period_coverage.csv` can state the months of a year it covers (SHA-256, year, months,\n")
	b.WriteString("where it is known from), so a statement applies to those exact bytes only. A period not stated is\n")
	b.WriteString("complete as published. Marts and headlines carry the label (`unhcr_period`, `period_label`), and no\n")
	b.WriteString("change, rate of change or difference between publishers is computed from a partial period. The\n")
	b.WriteString("warning check `publishers_far_apart` lists whole-year figures of one publisher that are less than half\n")
	b.WriteString("the other's, the usual sign of an input whose coverage is not yet known. Eurostat's `p` flag marks\n")
	b.WriteString("provisional figures (kept in `flags`).\n")
	for _, t := range publishedTables {
		fmt.Fprintf(&b, "\n## `%s`\n\n%s.\n\n", t.name, t.title)
		files := "`" + t.name + ".parquet`"
		if t.csv {
			files += ", `" + t.name + ".csv`"
		}
		if t.sheet != "" {
			files += ", sheet `" + t.sheet + "` of `visastats.xlsx`"
		}
		fmt.Fprintf(&b, "Files: %s.", files)
		if len(t.key) > 0 {
			fmt.Fprintf(&b, " Key: `%s`.", strings.Join(t.key, "`, `"))
		}
		fmt.Fprintf(&b, " Sorted by `%s`.\n\n", t.orderBy)
		b.WriteString("| column | type | unit | meaning |\n|---|---|---|---|\n")
		for _, c := range cat {
			if c.Table == t.name {
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.Type, c.Unit, strings.ReplaceAll(c.Description, "|", "\\|"))
			}
		}
	}
	if err := eurostatCodingsMarkdown(&b, eurostatCodeLists); err != nil {
		return "", err
	}
	return b.String(), nil
}

// eurostatCodingsMarkdown documents how both Eurostat codings meet in one
// vocabulary, what the flags mean, and the rounding tolerance.
func eurostatCodingsMarkdown(b *strings.Builder, dir string) error {
	codes, flags, err := sources.ReadEurostatCodeLists(dir)
	if err != nil {
		return err
	}
	b.WriteString("\n## Eurostat: one vocabulary for both codings\n\n")
	b.WriteString("Eurostat recoded its asylum datasets: older extracts count applicants with `asyl_app`\n")
	b.WriteString("(`ASY_APP` all, `NASY_APP` first time) and decisions as `TOTAL_POS`, `GENCONV`, `HUMSTAT`, `SUB_PROT`,\n")
	b.WriteString("`TEMP_PROT`, `REJECTED`; current ones use `applicant` (`TOTAL` = `FRST` + `SSEQ`) and `POS` (= `POS_RFG` +\n")
	b.WriteString("`POS_HUM` + `POS_SPROT`), `NEG`. In `observations` the `indicator` says what is counted, the same for\n")
	b.WriteString("both codings, while `applicant_type` and `decision` keep the code as published. So one query,\n")
	b.WriteString("`indicator = 'decisions_positive'`, reads `TOTAL_POS` before the change and `POS` after it. The\n")
	b.WriteString("mapping is data, `data/reference/eurostat_codes.csv` (table `ref_eurostat_codes` in the database);\n")
	b.WriteString("a code it does not hold stops the run, naming the file, line and code and the code list to add it to.\n\n")
	b.WriteString("| indicator | older coding | current coding | both |\n|---|---|---|---|\n")
	var order []string
	byInd := map[string]*[3][]string{}
	for _, c := range codes {
		if c.Indicator == "" {
			continue
		}
		g, ok := byInd[c.Indicator]
		if !ok {
			g = &[3][]string{}
			byInd[c.Indicator] = g
			order = append(order, c.Indicator)
		}
		i := map[string]int{"legacy": 0, "current": 1, "all": 2}[c.Generation]
		name := "`" + c.Code + "`"
		if c.AppssoLabel != "" {
			name += " (\"" + c.AppssoLabel + "\")"
		}
		g[i] = append(g[i], name)
	}
	for _, ind := range order {
		g := byInd[ind]
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", ind, strings.Join(g[0], ", "), strings.Join(g[1], ", "), strings.Join(g[2], ", "))
	}
	b.WriteString("\nLabels in quotes are those of the legacy appsso export. When two files publish the same indicator,\n")
	b.WriteString("reporter, citizenship, sex, age and period, `observations` keeps one number: a file of the current\n")
	b.WriteString("coding first, then SDMX-CSV before API TSV before the legacy export, then the later file name. Both\n")
	b.WriteString("stay in `raw_eurostat_asylum`; the check `eurostat_overlaps` lists overlaps that disagree.\n\n")
	b.WriteString("**Flags.** `flags` keeps the letters as published. Since 27 January 2025 Eurostat splits them into\n")
	b.WriteString("observation status (lower case) and confidentiality status (upper case); SDMX-CSV gives them in two\n")
	b.WriteString("columns, `OBS_FLAG` and `CONF_STATUS`, and `flags` holds the `OBS_FLAG` letters followed by the\n")
	b.WriteString("`CONF_STATUS` letters (`pC`), which is how the TSV prints them. One column rather than two keeps\n")
	b.WriteString("the contract, makes the same figure read the same from either format, and stays unambiguous by\n")
	b.WriteString("case. Old and new letters share a canonical meaning (`data/reference/eurostat_flags.csv`, table\n")
	b.WriteString("`ref_eurostat_flags`); the marts use it (a row is provisional when a letter means provisional).\n\n")
	b.WriteString("| letter | list | meaning | canonical letter | canonical meaning | from | until |\n|---|---|---|---|---|---|---|\n")
	for _, f := range flags {
		fmt.Fprintf(b, "| `%s` | %s | %s | `%s` | %s | %s | %s |\n", f.Letter, f.List, f.Meaning, f.CanonicalLetter, f.CanonicalMeaning, f.ValidFrom, f.ValidTo)
	}
	b.WriteString("\n**Rounding.** Eurostat rounds every count to the nearest 5, so a figure is off by at most 2 from\n")
	b.WriteString("the count it stands for, and a sum of n parts may differ from its published total by up to\n")
	b.WriteString("2 × (n + 1) persons: 6 for `POS` + `NEG` (or `TOTAL_POS` + `REJECTED`) against `TOTAL`, 8 for\n")
	b.WriteString("`POS_RFG` + `POS_HUM` + `POS_SPROT` against `POS`; in practice 0 or 5. The warning check\n")
	b.WriteString("`eurostat_decisions_reconcile` lists the rows beyond that tolerance.\n")
	return nil
}
