package release

import (
	"path"
	"regexp"
)

// The country profiles of a release live in one folder:
//
//	countries/index.html              every country, by name
//	countries/charts.json             every chart: title, unit, source, notes, files
//	countries/<ISO2>.html             a country's profile
//	countries/<ISO2>/<chart>.svg      each chart of it as SVG, PNG and
//	countries/<ISO2>/<chart>.png      the CSV of exactly the numbers drawn
//	countries/<ISO2>/<chart>.csv
//
// The pipeline writes them, the release page links them, the server serves
// them; all three read the names here.
const (
	// ProfilesDir is the folder of the country profiles in a release.
	ProfilesDir = "countries"
	// ProfilesIndex is the list of the profiles, relative to the release.
	ProfilesIndex = ProfilesDir + "/index.html"
	// ProfilesCatalogue lists every chart of the profiles, relative to
	// the release.
	ProfilesCatalogue = ProfilesDir + "/charts.json"
)

// Chart file formats, by extension.
const (
	ChartSVG = ".svg"
	ChartPNG = ".png"
	ChartCSV = ".csv"
)

// ChartFormats are the files every chart of a profile comes as.
var ChartFormats = []string{ChartSVG, ChartPNG, ChartCSV}

var (
	countryCode  = regexp.MustCompile(`^[A-Z]{2}$`)
	profilePage  = regexp.MustCompile(`^` + ProfilesDir + `/[A-Z]{2}\.html$`)
	profileChart = regexp.MustCompile(`^` + ProfilesDir + `/[A-Z]{2}/[a-z0-9_]+\.(svg|png|csv)$`)
	chartID      = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// ValidCountryCode says whether code can name a profile: an ISO 3166-1
// alpha-2 code in upper case.
func ValidCountryCode(code string) bool { return countryCode.MatchString(code) }

// ProfilePage is the profile of the country code, relative to the release.
func ProfilePage(code string) string { return ProfilesDir + "/" + code + ".html" }

// ProfileChart is a chart file of a profile, relative to the release: the
// chart id (a plain lower-case name) with ext, one of ChartFormats.
func ProfileChart(code, chart, ext string) string {
	return ProfilesDir + "/" + code + "/" + chart + ext
}

// IsProfileFile says whether name, relative to a release with slashes, is
// one of the files of the country profiles: the index, the catalogue, a
// profile or a chart file. Nothing else under the folder is ever written,
// listed or served.
func IsProfileFile(name string) bool {
	if name != path.Clean(name) {
		return false
	}
	return name == ProfilesIndex || name == ProfilesCatalogue || profilePage.MatchString(name) || profileChart.MatchString(name)
}

// ValidChartID says whether id can name a chart of a profile.
func ValidChartID(id string) bool { return chartID.MatchString(id) }
