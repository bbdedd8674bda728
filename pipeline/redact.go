package pipeline

import (
	"github.com/visastats/visastats/output/release"

	"os"
	"path/filepath"
	"sort"
	"strings"
)

// forPublication returns a copy of rep fit to publish in run.json: every
// local path relative to the project (the working directory) or, outside
// it, to the output folder, or else only its file name; and the same
// prefixes shortened in the error text, which names input files. Fetch
// URLs are already redacted when the report is made (snapshot.RedactURL).
// rep itself keeps the absolute paths the CLI prints.
func (rep *Report) forPublication(outDir string) *release.Report {
	cp := rep.Report
	bases := []string{}
	if wd, err := os.Getwd(); err == nil {
		bases = append(bases, wd)
	}
	if out, err := filepath.Abs(outDir); err == nil {
		bases = append(bases, out)
	}
	rel := func(p string) string {
		if p == "" || !filepath.IsAbs(p) {
			return p
		}
		for _, b := range bases {
			if r, err := filepath.Rel(b, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				return r
			}
		}
		return filepath.Base(p)
	}
	// Prefixes to shorten in the error text: the input files' folders and
	// the bases themselves, longest first so that the most specific wins.
	repl := map[string]string{}
	add := func(abs string) {
		if abs != "" && filepath.IsAbs(abs) {
			r := rel(abs)
			if r == filepath.Base(abs) {
				r = ""
			} else {
				r += string(filepath.Separator)
			}
			repl[abs+string(filepath.Separator)] = r
		}
	}
	cp.ReleaseDir, cp.Latest, cp.Database = rel(rep.ReleaseDir), rel(rep.Latest), rel(rep.Database)
	cp.Inputs = make([]release.Input, len(rep.Inputs))
	for i, in := range rep.Inputs {
		abs, err := filepath.Abs(in.Path)
		if err == nil {
			add(filepath.Dir(abs))
			in.Path = rel(abs)
		}
		cp.Inputs[i] = in
	}
	for _, b := range bases {
		repl[b+string(filepath.Separator)] = ""
	}
	if cp.Error != "" {
		keys := make([]string, 0, len(repl))
		for k := range repl {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
		pairs := make([]string, 0, 2*len(keys))
		for _, k := range keys {
			pairs = append(pairs, k, repl[k])
		}
		cp.Error = strings.NewReplacer(pairs...).Replace(cp.Error)
	}
	return &cp
}
