// Package plot draws the charts of a release (a country's visa and asylum
// series) as SVG and PNG in one house style, and writes the numbers drawn
// as CSV, so that every chart can be put in a page, a slide or a
// newsroom's own charting tool.
//
// It draws what it is given; it does not query the database or decide
// which series a country has (package pipeline does).
//
// # Outputs
//
// Every writer validates the chart first (see Validate) and writes nothing
// from an invalid one. The same chart always gives the same bytes: there
// are no timestamps and the ids derive from Chart.ID. All functions are
// safe for concurrent use.
//
//   - InlineSVG returns an <svg> element for an HTML5 page: no XML
//     declaration, a viewBox and no width or height (the page sets
//     width:100%; height:auto), role="img" and aria-labelledby naming its
//     first two children, <title> (the chart's title) and <desc> (Describe's
//     text). Their ids are "<ID>-title" and "<ID>-desc": charts sharing a
//     page need distinct IDs.
//   - WriteSVG writes the same drawing as a standalone .svg file, with an
//     XML declaration and a width and height in points.
//   - WritePNG writes a PNG 640 pixels wide, for slides and for systems
//     that take no SVG.
//   - WriteCSV writes the numbers drawn (below).
//   - Describe says in words what the chart shows: the latest value and its
//     period, the highest, the missing and the partial periods.
//
// # Style
//
// The drawing is made with gonum.org/v1/plot on a canvas 6.4 in (16.3 cm)
// wide, with fonts large enough to read when the SVG is scaled to a 360 px
// phone screen; its height grows with the title and notes. From top to
// bottom: the title (bold) and subtitle, wrapped; a legend when there are
// several series or any partial value; the unit (Chart.Unit) over the y
// axis; the plot; the source and notes in small text. Text is Liberation
// Sans, in the SVG with Arial (the same metrics) and sans-serif to fall
// back on. Series take the colours of Okabe and Ito's colour-blind-safe
// palette in order, hence at most MaxSeries of them.
//
// The y axis starts at 0 (or lower, for negative values) and ends at a
// round number; its ticks read 1,234,567 or, for Percent charts, 25%.
// Percent charts take fractions and draw percentages rounded to one
// decimal. The x axis labels every category, or every second, third, ...
// when they would collide, counting back from the latest, which is always
// labelled; the x axis title is Chart.XTitle.
//
// A missing value (nil) is a gap: a line breaks there and is never joined
// across it; a column chart draws no column and, where no series has a
// value, "n/a". A partial value (Series.Partial, e.g. UNHCR's January-June
// half year) is a hollow ring that no line joins to whole periods, or a
// lighter, hatched column; the legend shows its mark with
// Chart.PartialNote ("Jan-Jun only").
//
// # CSV
//
// The CSV is one clean table that Datawrapper, Flourish or a spreadsheet
// reads as it is: UTF-8 without a byte order mark, commas, "\n" line
// ends, quotes only where a field needs them, and no title, source or
// notes lines (those would break the import; the page and
// datapackage.json carry them).
//
//   - The header row names the columns. The first is the category column,
//     headed by Chart.XTitle in lower case ("year"), or "period" when there
//     is none. One column per series follows, in order, headed by the
//     series name; in a Percent chart " (%)" is appended
//     ("Recognition rate (%)") unless the name already holds a "%".
//   - Then, for each series with a partial value, a text column
//     "<series name> partial period" holding Chart.PartialNote ("Jan-Jun
//     only"; "part of the period only" if unset) in the rows of partial
//     values and nothing elsewhere. These come after all the value
//     columns, so that the numbers form one block a charting tool takes as
//     its series.
//   - One row per category, in order.
//   - Values are plain numbers: '.' for the decimal point, no thousands
//     separators, no exponent. Counts are written as given (3241940);
//     Percent charts write the percentage drawn, rounded to one decimal
//     (27.1 for 0.2706), without a "%" sign.
//   - A missing value is an empty cell, never 0.
//
// For example:
//
//	year,Applications,Applications partial period
//	2021,12159,
//	2022,20234,
//	2023,14899,Jan-Jun only
package plot
