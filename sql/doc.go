// Package sql holds visastats' transforms as numbered SQL files embedded in
// the binary, plus what a release publishes as data: the public tables
// (tables.csv: title, row order, key, sheet, topic filter, datasets), their
// columns (columns.csv) and the upstream sources (sources.csv). Adding a
// table is one SQL file plus rows in tables.csv and columns.csv.
//
// Transforms run in number order, one statement per file (the loader counts
// them, knowing literals and comments), each with a header comment saying
// its purpose, inputs and grain. The package only loads and
// validates the files; it must not execute them or build SQL from input
// (package pipeline runs them).
package sql
