// Package upstreamtest serves fake publishers' APIs for tests: each fake is
// an http.Handler that answers as the publisher's API does (its paths,
// formats, headers and failure modes, as far as they are known), with
// bodies built from the real publications the project ships under data/,
// switches a test sets to make it misbehave, and counters of the requests
// it received. Tests of package upstream and end-to-end tests of a nightly
// run mount them on an httptest.Server and point the configured base URL
// at it.
//
// It is for tests only: code that runs in production must not import it,
// and it must not import package upstream or pipeline, whose tests use it.
// It reads the shipped files itself, without package sources, so that a
// fake's bodies do not depend on the reader they test.
package upstreamtest
