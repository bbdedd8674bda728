// Package serve publishes visastats' releases over HTTP, read-only: a
// download page for people, an index page per release, the release files
// themselves (with ETags, conditional and range requests) and a JSON list of
// releases for programs. What clients can hold is bounded: the requests
// the server works on at once, connections in total and per client, and
// the time a connection may sit idle (see Options).
//
// It reads the release layout on disk (<dir>/latest -> releases/<id>,
// <dir>/releases/<id>/run.json and the files beside it, as package release
// describes it) and nothing else:
// it must not import pipeline, must not write anything, and must never
// serve a file that is not a regular file directly inside a published
// release directory (no release being written, no database, no dot file, no
// symlink, no directory listing).
package serve
