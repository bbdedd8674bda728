// Package release is what a release is on disk, for the pipeline that
// writes releases and for the readers that serve or publish them: the
// layout of the output folder (releases/<id>/, the latest link, the runs/
// records, the folders a build writes before they are renamed into place),
// the shape of a release id, the run report written as run.json, and
// reading reports, swapping latest, pruning and listing runs.
//
// It imports nothing of visastats, so every other package may use it.
package release
