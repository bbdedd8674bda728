package release

import "testing"

// TestIsProfileFile: the profiles' files are the index, the catalogue, a
// page per ISO alpha-2 code and the three files of a chart; nothing else
// under countries/ (another extension, a lower-case code, a path that
// leaves the folder or nests deeper) is one.
func TestIsProfileFile(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"countries/index.html", true},
		{"countries/charts.json", true},
		{"countries/RU.html", true},
		{"countries/RU/schengen_visas.svg", true},
		{"countries/RU/schengen_visas.png", true},
		{"countries/RU/asylum_recognition.csv", true},
		{ProfilePage("XK"), true},
		{ProfileChart("NA", "asylum_decisions", ChartCSV), true},
		{"countries/ru.html", false},
		{"countries/RUS.html", false},
		{"countries/RU/schengen_visas.exe", false},
		{"countries/RU/Schengen.svg", false},
		{"countries/RU/x/y.svg", false},
		{"countries/../run.json", false},
		{"countries/RU/../RU.html", false},
		{"countries//RU.html", false},
		{"/countries/RU.html", false},
		{"run.json", false},
		{"countries", false},
		{"countries/", false},
	} {
		if got := IsProfileFile(c.name); got != c.want {
			t.Errorf("IsProfileFile(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	for code, want := range map[string]bool{"RU": true, "XK": true, "ru": false, "R": false, "RUS": false, "..": false, "": false} {
		if ValidCountryCode(code) != want {
			t.Errorf("ValidCountryCode(%q) = %v", code, !want)
		}
	}
}
