// Package serve publishes visastats' releases over HTTP, read-only: a
// download page for people, an index page per release, the release files
// themselves (with ETags, conditional and range requests) and a JSON list of
// releases for programs.
//
// It reads the release layout on disk (<dir>/latest -> releases/<id>,
// <dir>/releases/<id>/run.json and the files beside it, as package release
// describes it) and nothing else:
// it must not import pipeline, must not write anything, and must never
// serve a file that is not a regular file directly inside a published
// release directory (no release being written, no database, no dot file, no
// symlink, no directory listing).
package serve
