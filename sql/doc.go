// Package sql holds visastats' transforms as numbered SQL files embedded in
// the binary, plus the column catalogue that documents every public table.
//
// Transforms run in number order, one statement per file (the loader counts
// them, knowing literals and comments), each with a header comment saying
// its purpose, inputs and grain. The package only loads and
// validates the files; it must not execute them or build SQL from input
// (package pipeline runs them).
package sql
