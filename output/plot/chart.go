package plot

// Chart is one chart: a few series over the same categories (periods).
type Chart struct {
	// ID is the chart's file stem, such as schengen_applications; it is a
	// plain lower-case name.
	ID string
	// Title says what is counted, where and when, in words a reader
	// understands without the page around it.
	Title string
	// Subtitle qualifies it, e.g. "at consulates located in Russia,
	// whatever the applicant's nationality".
	Subtitle string
	// Unit is the y axis title, e.g. "applications" or "% of decisions".
	Unit string
	// Percent draws values (fractions) as percentages.
	Percent bool
	// XTitle is the x axis title, e.g. "Year".
	XTitle string
	// Kind is "line" or "column".
	Kind string
	// Categories are the x axis labels in order, consecutive periods
	// (a period without data is a category whose values are all nil, so
	// that it shows as a gap).
	Categories []string
	// Series are drawn in order, each with one value per category.
	Series []Series
	// Source names the publishers and files, e.g. "European Commission,
	// visa statistics for consulates 2009-2024".
	Source string
	// Notes say what a reader must know: partial periods, breaks in
	// comparability, what the figure does not measure.
	Notes []string
	// PartialNote says what a partial value covers, e.g. "Jan-Jun only";
	// the legend, the description and the CSV use it. Empty means "part
	// of the period only".
	PartialNote string
}

// Series is one line or set of columns of a chart.
type Series struct {
	Name string
	// Values holds one value per category; nil is not available (a gap,
	// never zero).
	Values []*float64
	// Partial marks values that cover part of their period (UNHCR's
	// January-June half year); they are drawn visibly apart and never
	// joined to whole periods.
	Partial []bool
}
