// Package plot draws the charts of a release (a country's visa and asylum
// series) as SVG and PNG in one house style, and writes the numbers drawn
// as CSV, so that every chart can be put in a page, a slide or a
// newsroom's own charting tool.
//
// It draws what it is given; it does not query the database or decide
// which series a country has (package pipeline does).
package plot
