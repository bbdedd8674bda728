package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/visastats/visastats/output"
	"github.com/visastats/visastats/output/profile"
	"github.com/visastats/visastats/output/release"
	vsources "github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// DataPackageName is the Frictionless Data Package descriptor of a release.
const DataPackageName = "datapackage.json"

var packageLicenses = []output.License{
	{Name: "CC-BY-4.0", Path: "https://creativecommons.org/licenses/by/4.0/", Title: "Creative Commons Attribution 4.0 (Eurostat, UNHCR)"},
	{Path: "https://eur-lex.europa.eu/eli/dec/2011/833/oj", Title: "European Commission reuse policy, Decision 2011/833/EU (EC visa statistics), attribution required"},
}

// writeDataPackage describes every Parquet and CSV file of the release:
// schema (types, units, meanings), primary key, rows, bytes, hash, sources
// and licences.
func writeDataPackage(dir string, cat []vsql.Column, cfg OutputConfig, rep *Report) error {
	var sources []output.Source
	for _, s := range sourceNotes {
		sources = append(sources, output.Source{Title: s.Publisher, Path: strings.Fields(s.URL)[0]})
	}
	pkg := output.DataPackage{
		Profile:     output.ProfileDataPackage,
		Name:        "visastats",
		Title:       "visastats: Schengen visa and asylum statistics",
		Description: "Schengen visa statistics per consulate location and Schengen State (European Commission), asylum applicants and decisions (Eurostat, UNHCR), Russian MFA visa figures, and published claims checked against them. Counts, rates as fractions, flags as published.",
		Version:     rep.Release,
		Created:     rep.GeneratedAt.Format(time.RFC3339),
		Licenses:    packageLicenses,
		Sources:     sources,
	}
	byName := map[string][]release.File{}
	for _, f := range rep.Files {
		byName[f.Name] = append(byName[f.Name], f)
	}
	for _, t := range publishedTables {
		var fields []output.Field
		for _, c := range cat {
			if c.Table != t.name {
				continue
			}
			typ, err := output.TableSchemaType(c.Type)
			if err != nil {
				return fmt.Errorf("datapackage %s.%s: %w", t.name, c.Name, err)
			}
			fields = append(fields, output.Field{Name: c.Name, Type: typ, Title: c.Label, Description: c.Description, Unit: c.Unit})
		}
		schema := &output.TableSchema{Fields: fields, PrimaryKey: t.key, MissingValues: []string{""}}
		type variant struct {
			format, media, ext string
		}
		for _, v := range []variant{{"parquet", "application/vnd.apache.parquet", ".parquet"}, {"csv", "text/csv", ".csv"}} {
			var paths []string
			var rows int64 = -1
			if f, ok := byName[t.name+v.ext]; ok {
				paths, rows = []string{f[0].Name}, f[0].Rows
			} else if v.ext == ".parquet" {
				for _, f := range rep.Files {
					if strings.HasPrefix(f.Name, t.name+string(filepath.Separator)) && strings.HasSuffix(f.Name, ".parquet") {
						paths = append(paths, f.Name)
					}
				}
				sort.Strings(paths)
				if len(paths) > 0 {
					rows = rep.Tables[t.name]
				}
			}
			if len(paths) == 0 {
				continue
			}
			var bytes int64
			for _, p := range paths {
				fi, err := os.Stat(filepath.Join(dir, p))
				if err != nil {
					return fmt.Errorf("data package: %w", err)
				}
				bytes += fi.Size()
			}
			profile := output.ProfileDataResource
			if v.format == "csv" {
				profile = output.ProfileTabularDataResource
			}
			res := output.Resource{
				Name:      strings.ReplaceAll(t.name, "_", "-") + "-" + v.format,
				Path:      output.ResourcePath(paths),
				Profile:   profile,
				Title:     t.title,
				Format:    v.format,
				Mediatype: v.media,
				Bytes:     bytes,
				Schema:    schema,
				Sources:   sources,
				Licenses:  packageLicenses,
			}
			if v.format == "csv" {
				res.Encoding = "utf-8"
			}
			if len(paths) == 1 {
				_, sum, err := vsources.FileDigest(filepath.Join(dir, paths[0]))
				if err != nil {
					return err
				}
				res.Hash = packageHash(sum)
			}
			if rows >= 0 {
				r := rows
				res.Rows = &r
			}
			pkg.Resources = append(pkg.Resources, res)
		}
	}
	profiles, err := profileResources(dir, rep, sources)
	if err != nil {
		return err
	}
	pkg.Resources = append(pkg.Resources, profiles...)
	// The other files of the release: the workbooks, the citation and the
	// run report (written before this descriptor, so that it can be hashed).
	for _, f := range rep.Files {
		if release.IsProfileFile(f.Name) {
			continue
		}
		var format, media string
		switch strings.ToLower(filepath.Ext(f.Name)) {
		case ".xlsx":
			format, media = "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		case ".cff":
			format, media = "cff", "application/x-yaml"
		case ".html":
			format, media = "html", "text/html"
		default:
			continue
		}
		res, err := fileResource(dir, f.Name, format, media, f.Description, sources)
		if err != nil {
			return err
		}
		pkg.Resources = append(pkg.Resources, res)
	}
	res, err := fileResource(dir, "run.json", "json", "application/json",
		"The run report: inputs with their SHA-256, rows per table, checks, claims, changes, durations and versions", nil)
	if err != nil {
		return err
	}
	pkg.Resources = append(pkg.Resources, res)
	if err := output.WriteDataPackage(filepath.Join(dir, DataPackageName), pkg); err != nil {
		return err
	}
	return nil
}

// profileResources describes the country profiles of the release, when it
// has them: each chart's CSV as a tabular resource whose title, description
// (subtitle, unit, source, notes), source and field units are those on the
// page beside the chart (read from the catalogue countries/charts.json);
// the catalogue and the list of countries; and, as one resource each, the
// profile pages, the SVG images and the PNG images (several files a
// resource), so that datapackage.json covers every file without a
// thousand resources for pictures.
func profileResources(dir string, rep *Report, sources []output.Source) ([]output.Resource, error) {
	listed := map[string]bool{}
	var pages, svgs, pngs []string
	for _, f := range rep.Files {
		if !release.IsProfileFile(f.Name) {
			continue
		}
		listed[f.Name] = true
		switch {
		case f.Name == release.ProfilesIndex || f.Name == release.ProfilesCatalogue:
		case strings.HasSuffix(f.Name, ".html"):
			pages = append(pages, f.Name)
		case strings.HasSuffix(f.Name, release.ChartSVG):
			svgs = append(svgs, f.Name)
		case strings.HasSuffix(f.Name, release.ChartPNG):
			pngs = append(pngs, f.Name)
		}
	}
	if !listed[release.ProfilesIndex] {
		return nil, nil
	}
	cat, err := profile.ReadCatalogue(dir)
	if err != nil {
		return nil, err
	}
	var out []output.Resource
	for _, c := range cat.Charts {
		if !listed[c.CSV] {
			return nil, fmt.Errorf("data package: %s lists %s, which run.json does not", release.ProfilesCatalogue, c.CSV)
		}
		size, sum, err := vsources.FileDigest(filepath.Join(dir, filepath.FromSlash(c.CSV)))
		if err != nil {
			return nil, err
		}
		var fields []output.Field
		for i, col := range c.Columns {
			f := output.Field{Name: col, Type: "string"}
			switch {
			case i == 0:
				f.Type = "year"
			case i <= len(c.Series):
				f.Type, f.Unit = "number", c.Unit
			}
			fields = append(fields, f)
		}
		desc := c.Subtitle
		if desc != "" {
			desc += ". "
		}
		desc += "Unit: " + c.Unit + ". Source: " + c.Source + "."
		if len(c.Notes) > 0 {
			desc += " Notes: " + strings.Join(c.Notes, " | ")
		}
		rows := int64(c.Rows)
		out = append(out, output.Resource{
			Name:        "chart-" + strings.ToLower(c.Country) + "-" + strings.ReplaceAll(c.Chart, "_", "-"),
			Path:        output.ResourcePath{c.CSV},
			Profile:     output.ProfileTabularDataResource,
			Title:       c.Title,
			Description: desc,
			Format:      "csv",
			Mediatype:   output.MediaTypeCSV,
			Encoding:    "utf-8",
			Bytes:       size,
			Hash:        packageHash(sum),
			Rows:        &rows,
			Schema:      &output.TableSchema{Fields: fields, MissingValues: []string{""}},
			Sources:     []output.Source{{Title: c.Source}},
		})
	}
	for _, f := range []struct{ resource, path, format, media, title string }{
		{"country-profiles-index", release.ProfilesIndex, "html", "text/html", "Country profiles: the list of countries"},
		{"country-profiles-charts", release.ProfilesCatalogue, "json", "application/json", "Every chart of the country profiles: country, title, unit, source, notes and files"},
	} {
		r, err := fileResource(dir, f.path, f.format, f.media, f.title, sources)
		if err != nil {
			return nil, err
		}
		r.Name = f.resource
		out = append(out, r)
	}
	for _, g := range []struct {
		name, format, media, title string
		paths                      []string
	}{
		{"country-profile-pages", "html", "text/html", "The country profiles, a page per country", pages},
		{"country-profile-charts-svg", "svg", "image/svg+xml", "Every chart of the country profiles as SVG", svgs},
		{"country-profile-charts-png", "png", "image/png", "Every chart of the country profiles as PNG", pngs},
	} {
		if len(g.paths) == 0 {
			continue
		}
		r, err := filesResource(dir, g.name, g.format, g.media, g.title, g.paths)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// filesResource describes several files of one format as one resource,
// with their bytes; like a partitioned table it has no hash (run.json
// gives each file's SHA-256).
func filesResource(dir, name, format, media, title string, paths []string) (output.Resource, error) {
	var size int64
	for _, p := range paths {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return output.Resource{}, fmt.Errorf("data package: %w", err)
		}
		size += fi.Size()
	}
	return output.Resource{Name: name, Path: output.ResourcePath(paths), Profile: output.ProfileDataResource, Title: title,
		Format: format, Mediatype: media, Bytes: size}, nil
}

// fileResource describes a file of the release that is not a table.
func fileResource(dir, name, format, media, description string, sources []output.Source) (output.Resource, error) {
	size, sum, err := vsources.FileDigest(filepath.Join(dir, name))
	if err != nil {
		return output.Resource{}, err
	}
	hash := packageHash(sum)
	r := output.Resource{
		Name:      strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name)),
		Path:      output.ResourcePath{name},
		Profile:   output.ProfileDataResource,
		Title:     description,
		Format:    format,
		Mediatype: media,
		Bytes:     size,
		Hash:      hash,
		Sources:   sources,
		Licenses:  packageLicenses,
	}
	if r.Title == "" {
		r.Title = name
	}
	return r, nil
}

// packageHash writes a hex SHA-256 as a Data Package resource's hash.
func packageHash(sum string) string { return "sha256:" + sum }
