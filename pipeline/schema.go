package pipeline

import (
	"fmt"
	"strings"

	vsql "github.com/visastats/visastats/sql"
)

// SchemaMarkdown documents the public tables of a release (docs/schema.md):
// every table with its files and key, every column with its type, unit and
// meaning, from the same catalogue the pipeline checks the tables against.
func SchemaMarkdown() (string, error) {
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
	b.WriteString("`observations/dataset=<dataset>/year=<year>/part-0.parquet` instead of one file.\n\n")
	b.WriteString("Rates and changes are fractions (-0.2428 is -24.28%). Counts that the source says are not\n")
	b.WriteString("available are empty (NULL), never 0. Country codes are ISO 3166-1 alpha-2 (`XK` Kosovo), or\n")
	b.WriteString("Eurostat aggregate codes (`EU27_2020`, `EU28`, ...), `STLS` stateless, `UNK` unknown.\n")
	b.WriteString("\n### Completeness\n\n")
	b.WriteString("Every observation says whether its period is complete (`period_complete`) and how to read it\n")
	b.WriteString("(`period_label`: `2023`, or `2023 (Jan-Jun)` when the input covers only those months). UNHCR publishes\n")
	b.WriteString("a mid-year release, whose latest year covers January-June, and a full-year release; what an input\n")
	b.WriteString("covers is stated in `data/curated/period_coverage.csv`, one row per input (by its SHA-256) and year,\n")
	b.WriteString("with where that is known from, so a statement applies to those exact bytes only. A period not listed\n")
	b.WriteString("is complete as published. Marts and headlines carry the label (`unhcr_period`, `period_label`), and no\n")
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
	return b.String(), nil
}
