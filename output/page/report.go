package page

import "github.com/visastats/visastats/output/release"

// The run report and the parts of it a release page shows: the types of
// run.json, which the release package owns.
type (
	Report   = release.Report
	Check    = release.Check
	Headline = release.Headline
	Asylum   = release.AsylumYear
	Claim    = release.Claim
	Issue    = release.UpstreamIssue
)

// File is one file of a release as the page lists it; Rows is nil for a
// file that is not a whole table.
type File struct {
	Name        string
	Rows        *int64
	Size        int64
	Description string
}
