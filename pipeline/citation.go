package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CitationName is the Citation File Format file of a release.
const CitationName = "CITATION.cff"

// producerCitation is how one producer of the data asks to be credited.
type producerCitation struct {
	source string // sourceNotes name
	author string // who produced the data
	text   string // the reference, as a reader would cite it
	doi    string // "" when the producer assigns none
	url    string
}

// producerCitations credits each producer whose numbers a release
// republishes. Eurostat gives every dataset a DOI (10.2908/<CODE>); the
// Commission's and UNHCR's pages have none.
var producerCitations = []producerCitation{
	{source: "ec_schengen_consulates", author: "European Commission, Directorate-General for Migration and Home Affairs", text: "European Commission, Directorate-General for Migration and Home Affairs. Visa statistics for consulates (Schengen short-stay visas), yearly workbooks.",
		url: "https://home-affairs.ec.europa.eu/policies/schengen-borders-and-visa/visa-policy/short-stay-visas-issued-schengen-countries_en"},
	{source: "eurostat_asylum", author: "Eurostat", text: "Eurostat. Asylum applicants by type of applicant, citizenship, age and sex - annual aggregated data (migr_asyappctza).",
		doi: "10.2908/MIGR_ASYAPPCTZA", url: "https://doi.org/10.2908/MIGR_ASYAPPCTZA"},
	{source: "eurostat_asylum", author: "Eurostat", text: "Eurostat. Asylum applicants by type, citizenship, age and sex - monthly data (migr_asyappctzm).",
		doi: "10.2908/MIGR_ASYAPPCTZM", url: "https://doi.org/10.2908/MIGR_ASYAPPCTZM"},
	{source: "eurostat_asylum", author: "Eurostat", text: "Eurostat. First instance decisions on applications by citizenship, age and sex - annual aggregated data (migr_asydcfsta).",
		doi: "10.2908/MIGR_ASYDCFSTA", url: "https://doi.org/10.2908/MIGR_ASYDCFSTA"},
	{source: "unhcr", author: "UNHCR, the UN Refugee Agency", text: "UNHCR, the UN Refugee Agency. Refugee Data Finder: asylum applications and decisions.",
		url: "https://www.unhcr.org/refugee-statistics/"},
	{source: "ru_mfa_published", author: "Ministry of Foreign Affairs of the Russian Federation", text: "Ministry of Foreign Affairs of the Russian Federation, Consular Department, visa totals as reported by Interfax and TASS (one citation per figure in ru_mfa_visas_published).",
		url: "https://interfax.com/newsroom/top-stories/99044/"},
}

// HowToCite is the text a user of release cites: the release itself, then
// every producer of its numbers, whose licences require the credit.
func HowToCite(release string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "visastats, release %s: Schengen visa and asylum statistics recomputed from the published sources. Cite the release id; the numbers are the producers', so credit them too:", release)
	for _, c := range producerCitations {
		b.WriteString(" " + c.text)
		if c.doi != "" {
			b.WriteString(" https://doi.org/" + c.doi + ".")
		} else {
			b.WriteString(" " + c.url + ".")
		}
	}
	return b.String()
}

// writeCitation writes CITATION.cff (Citation File Format 1.2.0) into dir:
// the release as the work cited (type dataset, which CFF allows only at the
// top level), and each producer's data as a reference of type data (the
// reference vocabulary has no "dataset"). pipeline/testdata holds the CFF
// 1.2.0 schema the file is validated against.
func writeCitation(dir, release, date string) error {
	q := func(s string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	var b strings.Builder
	b.WriteString("cff-version: 1.2.0\n")
	b.WriteString("message: " + q("Cite this release by its id, and credit the producers of the data listed under references, as their licences require.") + "\n")
	b.WriteString("type: dataset\n")
	b.WriteString("title: " + q("visastats: Schengen visa and asylum statistics, release "+release) + "\n")
	b.WriteString("version: " + q(release) + "\n")
	b.WriteString("date-released: " + q(date) + "\n")
	b.WriteString("authors:\n  - name: " + q("visastats contributors") + "\n")
	b.WriteString("references:\n")
	for _, c := range producerCitations {
		b.WriteString("  - type: data\n")
		b.WriteString("    title: " + q(c.text) + "\n")
		b.WriteString("    authors:\n      - name: " + q(c.author) + "\n")
		if c.doi != "" {
			b.WriteString("    doi: " + q(c.doi) + "\n")
		}
		b.WriteString("    url: " + q(c.url) + "\n")
	}
	return os.WriteFile(filepath.Join(dir, CitationName), []byte(b.String()), 0o644)
}
