// Package profile writes the country profiles of a release: for each
// country a static page (countries/<ISO2>.html) with its charts inline as
// SVG, each chart also as an SVG file, a PNG and the CSV of exactly the
// numbers drawn (countries/<ISO2>/<chart>.svg|png|csv), the list of
// countries (countries/index.html) and a catalogue of every chart with its
// title, unit, source and notes (countries/charts.json).
//
// The pages link only relatively and need no script and no server, so a
// bucket, a file:// open or `visastats serve` shows them alike; they share
// the release page's style sheet. The package lays out and writes what it
// is given: it does not query the database or decide which charts a
// country has (package pipeline does), and it must not import pipeline.
package profile
