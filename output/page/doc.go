// Package page renders the download page of a release from its run
// report: the one template that `visastats serve` shows and that every
// release carries as a static index.html. It reads the report and lays out
// the page (the report's type is package release's); it must not read
// release folders, serve HTTP or import pipeline.
package page
