// Package output writes visastats' published files from query results:
// Parquet files and hive-partitioned Parquet folders from Arrow record
// batches, CSV files and Excel workbooks from database/sql rows, and the
// Frictionless Data Package descriptor that lists them, which
// ValidateDataPackage checks against the files.
//
// It must not decide what is published or where releases live (package
// pipeline does), must not import pipeline, and writes every file to a
// temporary name first so that no half-written file is ever visible under
// its final name.
package output
