package sources

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// SDMX-CSV (one observation per line, codes) and the legacy appsso CSV
// export (one observation per line, labels) are read with encoding/csv;
// both are far smaller than the monthly TSV.

// eurostatDataflowRe reads the dataset id from "ESTAT:MIGR_ASYDCFSTA(1.0)".
var eurostatDataflowRe = regexp.MustCompile(`^(?:[A-Za-z0-9_]+:)?([A-Za-z0-9_]+)(?:\([0-9.]+\))?$`)

// eurostatCSVError turns an encoding/csv error into a *LocatedError.
func eurostatCSVError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LocatedError{File: path, Line: int64(pe.Line), Column: fieldNumber(pe.Column), Err: pe.Err}
	}
	var ep *LocatedError
	if errors.As(err, &ep) {
		return err
	}
	if errors.Is(err, ErrTruncated) {
		return &LocatedError{File: path, Err: err}
	}
	return fmt.Errorf("read %s: %w", path, err)
}

// eurostatCSVColumns maps header names (case-insensitive) to positions and
// rejects unknown or repeated ones, so that no column is dropped unseen.
func eurostatCSVColumns(path string, header []string, known func(string) bool) (map[string]int, error) {
	cols := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !utf8.ValidString(h) {
			return nil, &LocatedError{File: path, Line: 1, Column: fieldNumber(i + 1), Err: ErrEurostatEncoding}
		}
		if !known(name) {
			return nil, &LocatedError{File: path, Line: 1, Column: fieldNumber(i + 1), Value: h, Err: fmt.Errorf("%w: column %q is not known", ErrEurostatHeader, h)}
		}
		if _, dup := cols[name]; dup {
			return nil, &LocatedError{File: path, Line: 1, Column: fieldNumber(i + 1), Value: h, Err: fmt.Errorf("%w: column %q appears twice", ErrEurostatHeader, h)}
		}
		cols[name] = i
	}
	return cols, nil
}

// sniffSDMXDataset reads the DATAFLOW (or STRUCTURE_ID) of the first data
// row without consuming the reader.
func sniffSDMXDataset(path string, br *bufio.Reader) (string, error) {
	head, _ := br.Peek(64 << 10)
	cr := csv.NewReader(strings.NewReader(string(head)))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return "", eurostatCSVError(path, err)
	}
	rec, err := cr.Read()
	if err == io.EOF {
		return "", &LocatedError{File: path, Err: ErrEurostatEmpty}
	}
	if err != nil {
		return "", &LocatedError{File: path, Line: 2, Err: fmt.Errorf("%w: no data row to read DATAFLOW from", ErrEurostatHeader)}
	}
	col := -1
	for i, h := range header {
		n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if n == "dataflow" || n == "structure_id" {
			col = i
		}
	}
	if col < 0 || col >= len(rec) {
		return "", &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: no DATAFLOW column", ErrEurostatHeader)}
	}
	ds, err := eurostatDataflow(rec[col])
	if err != nil {
		return "", &LocatedError{File: path, Line: 2, Column: fieldNumber(col + 1), Header: header[col], Value: rec[col], Err: err}
	}
	return ds, nil
}

func eurostatDataflow(s string) (string, error) {
	m := eurostatDataflowRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", errors.New("DATAFLOW is not of the form AGENCY:ID(VERSION)")
	}
	return strings.ToLower(m[1]), nil
}

// parseEurostatSDMX reads SDMX-CSV from r into b.
func parseEurostatSDMX(ctx context.Context, r io.Reader, meta *eurostatFileMeta, b *eurostatBatcher) error {
	path := meta.path
	cr := csv.NewReader(newRecordLimitReader(r, path, 1, meta.limits))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return eurostatCSVError(path, err)
	}
	header = append([]string(nil), header...)
	cols, err := eurostatCSVColumns(path, header, func(n string) bool {
		switch n {
		case "dataflow", "structure", "structure_id", "action", "last update",
			"time_period", "obs_value", "obs_flag", "conf_status":
			return true
		}
		_, ok := eurostatDimColumn(n)
		return ok
	})
	if err != nil {
		return err
	}
	if _, ok := cols["structure"]; ok {
		delete(cols, "structure")
		delete(cols, "action")
	}
	flow, okFlow := cols["dataflow"]
	if !okFlow {
		flow, okFlow = cols["structure_id"]
	}
	for _, need := range []string{"freq", "unit", "citizen", "sex", "age", "geo", "time_period", "obs_value"} {
		if _, ok := cols[need]; !ok {
			return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: column %s is missing", ErrEurostatHeader, need)}
		}
	}
	if !okFlow {
		return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: column DATAFLOW is missing", ErrEurostatHeader)}
	}
	app, hasApp := cols["applicant"]
	if a, ok := cols["asyl_app"]; ok {
		if hasApp {
			return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: both applicant and asyl_app", ErrEurostatHeader)}
		}
		app, hasApp = a, true
	}
	dec, hasDec := cols["decision"]
	if hasApp == hasDec {
		return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: expected exactly one of applicant (asyl_app) and decision", ErrEurostatHeader)}
	}
	flagCol, hasFlag := cols["obs_flag"]
	if !hasFlag {
		flagCol = -1
	}
	// Since 27 January 2025 the confidentiality status comes in a column
	// of its own; its letters are appended to OBS_FLAG's.
	confCol, hasConf := cols["conf_status"]
	if !hasConf {
		confCol = -1
	}
	codes := meta.codes
	dimCols := [esNDict]int{}
	for k := range dimCols {
		dimCols[k] = -1
	}
	for _, k := range []int{esFreq, esUnit, esCitizen, esSex, esAge, esGeo} {
		dimCols[k] = cols[esDictNames[k]]
	}
	if hasApp {
		dimCols[esApplicant] = app
	} else {
		dimCols[esDecision] = dec
	}
	timeCol, valCol := cols["time_period"], cols["obs_value"]

	var ids [esNDict]int32
	return eachEurostatCSVRecord(ctx, cr, path, header, func(ln int64, rec []string, perr func(int, error) error) error {
		if ds, err := eurostatDataflow(rec[flow]); err != nil {
			return perr(flow, err)
		} else if ds != meta.dataset {
			return perr(flow, fmt.Errorf("dataset %s differs from %s on line 2; one file holds one dataset", ds, meta.dataset))
		}
		period, freq, err := eurostatPeriod([]byte(strings.TrimSpace(rec[timeCol])))
		if err != nil {
			return perr(timeCol, err)
		}
		for k, c := range dimCols {
			if k == esPeriod || k == esFlags {
				continue // set below
			}
			if c < 0 {
				ids[k] = b.dicts[k].idString("")
				continue
			}
			v := strings.TrimSpace(rec[c])
			if v == "" {
				return perr(c, errors.New("empty code"))
			}
			if k != esCitizen && k != esGeo && !codes.codeString(k, v) {
				return perr(c, codes.unknownCode(meta.dataset, k, v, "code"))
			}
			ids[k] = b.dicts[k].idString(v)
		}
		if f := strings.TrimSpace(rec[dimCols[esFreq]]); f[0] != freq {
			return perr(dimCols[esFreq], fmt.Errorf("freq %s does not match period %s", f, period))
		}
		ids[esPeriod] = b.dicts[esPeriod].idString(period)
		return b.addCSVCell(ln, &ids, rec, codes, flagCol, confCol, valCol, false, perr)
	})
}

// parseEurostatAppsso reads a legacy appsso CSV export from r into b;
// utf8OK false means the file is Windows-1252.
func parseEurostatAppsso(ctx context.Context, r io.Reader, utf8OK bool, meta *eurostatFileMeta, b *eurostatBatcher) error {
	path := meta.path
	if !utf8OK {
		r = charmap.Windows1252.NewDecoder().Reader(r)
	}
	cr := csv.NewReader(newRecordLimitReader(r, path, 1, meta.limits))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return eurostatCSVError(path, err)
	}
	header = append([]string(nil), header...)
	cols, err := eurostatCSVColumns(path, header, func(n string) bool {
		switch n {
		case "time", "geo", "citizen", "sex", "age", "asyl_app", "decision", "unit", "value", "flag and footnotes":
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	for _, need := range []string{"time", "geo", "citizen", "sex", "age", "unit", "value"} {
		if _, ok := cols[need]; !ok {
			return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: column %s is missing", ErrEurostatHeader, strings.ToUpper(need))}
		}
	}
	app, hasApp := cols["asyl_app"]
	dec, hasDec := cols["decision"]
	if hasApp == hasDec {
		return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: expected exactly one of ASYL_APP and DECISION", ErrEurostatHeader)}
	}
	flagCol, hasFlag := cols["flag and footnotes"]
	if !hasFlag {
		flagCol = -1
	}
	codes := meta.codes
	type dimCol struct {
		k     int
		col   int
		label bool // mapped from label to code
	}
	dims := []dimCol{
		{esUnit, cols["unit"], true}, {esCitizen, cols["citizen"], false}, {esSex, cols["sex"], true},
		{esAge, cols["age"], true}, {esGeo, cols["geo"], false},
	}
	if hasApp {
		dims = append(dims, dimCol{esApplicant, app, true})
	} else {
		dims = append(dims, dimCol{esDecision, dec, true})
	}
	timeCol, valCol := cols["time"], cols["value"]

	var ids [esNDict]int32
	return eachEurostatCSVRecord(ctx, cr, path, header, func(ln int64, rec []string, perr func(int, error) error) error {
		period, freq, err := eurostatPeriod([]byte(strings.TrimSpace(rec[timeCol])))
		if err != nil {
			return perr(timeCol, err)
		}
		ids[esApplicant] = b.dicts[esApplicant].idString("")
		ids[esDecision] = b.dicts[esDecision].idString("")
		for _, d := range dims {
			v := strings.TrimSpace(rec[d.col])
			if v == "" {
				return perr(d.col, errors.New("empty label"))
			}
			if d.label {
				code, ok := codes.label(d.k, v)
				if !ok {
					return perr(d.col, codes.unknownCode(meta.dataset, d.k, v, "label"))
				}
				v = code
			}
			ids[d.k] = b.dicts[d.k].idString(v)
		}
		ids[esFreq] = b.dicts[esFreq].idString(string([]byte{freq}))
		ids[esPeriod] = b.dicts[esPeriod].idString(period)
		return b.addCSVCell(ln, &ids, rec, codes, flagCol, -1, valCol, true, perr)
	})
}

// eachEurostatCSVRecord reads the records below the header and calls fn with
// each one, its line and an error maker for its cells, after the checks
// both CSV formats share: a ragged record and invalid UTF-8 are errors, and
// ctx is checked as the file goes.
func eachEurostatCSVRecord(ctx context.Context, cr *csv.Reader, path string, header []string,
	fn func(ln int64, rec []string, perr func(int, error) error) error) error {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return eurostatCSVError(path, err)
		}
		line, _ := cr.FieldPos(0)
		ln := int64(line)
		if ln%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		perr := func(col int, err error) error {
			return &LocatedError{File: path, Line: ln, Column: fieldNumber(col + 1), Header: header[col], Value: rec[col], Err: err}
		}
		if len(rec) != len(header) {
			return &LocatedError{File: path, Line: ln, Column: fieldNumber(min(len(rec), len(header)) + 1),
				Err: fmt.Errorf("%w: found %d fields, want %d", ErrEurostatRagged, len(rec), len(header))}
		}
		for i, f := range rec {
			if !utf8.ValidString(f) {
				return perr(i, ErrEurostatEncoding)
			}
		}
		if err := fn(ln, rec, perr); err != nil {
			return err
		}
	}
}

// addCSVCell finishes one CSV record: its flags (flagCol < 0: none; the
// letters of confCol, the SDMX CONF_STATUS, are appended, so that the
// flags read as in the TSV: "pC"), its value (":" is not available;
// thousands allows "17,445"; an empty value is not available unless
// thousands, the appsso export, where it is an error; spaces around or in
// a number are errors, as the publisher writes none), and hands the cell
// to the batcher.
func (b *eurostatBatcher) addCSVCell(ln int64, ids *[esNDict]int32, rec []string, codes *eurostatCodeLists, flagCol, confCol, valCol int, thousands bool, perr func(int, error) error) error {
	flags := ""
	if flagCol >= 0 {
		flags = strings.TrimSpace(rec[flagCol])
		if i := codes.cellFlags.check([]byte(flags)); i >= 0 {
			return perr(flagCol, codes.unknownFlag([]byte(flags[i:i+1])))
		}
	}
	if confCol >= 0 {
		conf := strings.TrimSpace(rec[confCol])
		if i := codes.confFlags.check([]byte(conf)); i >= 0 {
			return perr(confCol, fmt.Errorf("%w %q: CONF_STATUS holds only the conf_status letters of %s",
				ErrEurostatUnknownFlag, conf[i:i+1], codes.flagsFile))
		}
		flags += conf
	}
	ids[esFlags] = b.dicts[esFlags].idString(flags)
	raw := rec[valCol]
	var v float64
	ok := false
	if raw != ":" && (thousands || raw != "") {
		if v, ok = parsePublishedNumber([]byte(raw), thousands); !ok {
			switch t := strings.TrimSpace(raw); {
			case strings.Contains(t, " "):
				return perr(valCol, errEurostatSpaceInside)
			case t != raw:
				return perr(valCol, errEurostatSpaceAround)
			}
			return perr(valCol, ErrEurostatValue)
		}
		if !plausibleCount(v) {
			return perr(valCol, ErrImplausibleCount)
		}
	}
	if err := b.add(ln, ids, v, ok); err != nil {
		return err
	}
	return b.endLine()
}
