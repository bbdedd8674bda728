// Package pipeline orchestrates a visastats run: it loads the typed
// configuration once, opens the DuckDB database, loads every source, runs the
// embedded SQL transforms and checks, writes the outputs of a release and
// publishes it by swapping the latest link.
//
// It does not parse upstream formats (package sources) or encode files
// (package output); it logs one line per stage and returns errors that say
// where they happened.
package pipeline
