// Package output writes visastats' published files (Parquet, Excel) from
// query results: Arrow record batches for Parquet and database/sql rows for
// spreadsheets.
//
// It must not decide what is published or where releases live (package
// pipeline does), must not import pipeline, and writes every file to a
// temporary name first so that no half-written file is ever visible under
// its final name.
package output
