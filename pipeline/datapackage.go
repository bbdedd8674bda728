package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/visastats/visastats/output"
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
	// The other files of the release: the workbooks, the citation and the
	// run report (written before this descriptor, so that it can be hashed).
	for _, f := range rep.Files {
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
