// Package upstream speaks the publishers' download protocols for a
// nightly run: Eurostat's files inventory, data queries and asynchronous
// extractions, and the European Commission's landing page of consulate
// workbooks. Every body it keeps goes through the snapshot store, so that
// an offline run rebuilds any release from the same bytes.
//
// It decides what to download and checks that a body is what was asked
// for; it does not read the data (package sources does) and it does not
// decide what a run publishes (package pipeline does).
package upstream
