package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// cffSchemaID is the $id of testdata/cff-1.2.0.schema.json (provenance
// and licence beside it, in cff-1.2.0.schema.md).
const cffSchemaID = "https://citation-file-format.github.io/1.2.0/schema.json"

// compileCFFSchema compiles the shipped CFF 1.2.0 schema, with formats
// (date, uri) asserted.
func compileCFFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cff-1.2.0.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(cffSchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(cffSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// cffInstance reads a CITATION.cff (YAML) as the JSON value the schema
// validates. Dates must be strings in CFF (the schema's note to tool
// implementers): the file quotes them, so YAML keeps them as text.
func cffInstance(t *testing.T, cff []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(cff, &v); err != nil {
		t.Fatalf("CITATION.cff is not YAML: %v\n%s", err, cff)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("CITATION.cff as JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestCitationValidatesAgainstCFFSchema validates the CITATION.cff a
// release carries against the Citation File Format 1.2.0 JSON schema, and
// shows that the validator refuses what the files used to say (a
// reference of type dataset, allowed only at the top level).
func TestCitationValidatesAgainstCFFSchema(t *testing.T) {
	t.Parallel()
	sch := compileCFFSchema(t)
	dir := t.TempDir()
	if err := writeCitation(dir, "20261207T133900Z", "2026-12-07"); err != nil {
		t.Fatal(err)
	}
	cff, err := os.ReadFile(filepath.Join(dir, CitationName))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(cffInstance(t, cff)); err != nil {
		t.Fatalf("CITATION.cff does not validate against CFF 1.2.0:\n%v\n%s", err, cff)
	}
	var doc struct {
		Type       string `yaml:"type"`
		References []struct {
			Type string `yaml:"type"`
			DOI  string `yaml:"doi"`
		} `yaml:"references"`
	}
	if err := yaml.Unmarshal(cff, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "dataset" || len(doc.References) != len(producerCitations) {
		t.Errorf("type %q with %d references, want dataset with %d (one per producer)", doc.Type, len(doc.References), len(producerCitations))
	}
	dois := 0
	for _, r := range doc.References {
		if r.Type != "data" {
			t.Errorf("reference type %q, want data", r.Type)
		}
		if r.DOI != "" {
			dois++
		}
	}
	if dois != 3 {
		t.Errorf("%d references with a DOI, want Eurostat's 3 datasets", dois)
	}

	for _, c := range []struct{ name, from, to string }{
		{"reference of type dataset", "  - type: data\n", "  - type: dataset\n"},
		{"date as a timestamp", `date-released: "2026-12-07"`, `date-released: "2026-12-07T00:00:00Z"`},
		{"DOI as a resolver URL", `doi: "10.2908/MIGR_ASYAPPCTZA"`, `doi: "https://doi.org/10.2908/MIGR_ASYAPPCTZA"`},
	} {
		t.Run("refuses "+c.name, func(t *testing.T) {
			bad := strings.Replace(string(cff), c.from, c.to, 1)
			if bad == string(cff) {
				t.Fatalf("%q not in CITATION.cff", c.from)
			}
			if err := sch.Validate(cffInstance(t, []byte(bad))); err == nil {
				t.Errorf("the schema accepts a CITATION.cff with a %s", c.name)
			}
		})
	}
}
