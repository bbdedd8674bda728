// Package sources turns upstream publications (spreadsheets, CSV, TSV, JSON)
// into raw tables in DuckDB, one table family per source, holding the figures
// exactly as published plus where each came from (file, sheet, row).
//
// A source must not harmonise codes, compute totals or rates, or know about
// outputs: that is the job of the SQL transforms in package sql. Sources never
// import package pipeline; they receive typed configuration and a connection.
// Nor do they go to the network: remote inputs arrive as local files fetched
// by the pipeline, and a source that follows pages (FetchUNHCRAPI) asks a
// FetchPage the pipeline provides for each one. Bad input is reported as a
// *LocatedError naming the file, sheet, line and column.
package sources
