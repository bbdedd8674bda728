package sources

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The API and bulk TSV: the first column holds the comma-joined dimension
// codes (header "freq,unit,citizen,sex,age,applicant,geo\TIME_PERIOD", or
// "unit,citizen,sex,age,asyl_app,geo\time" in older bulk files), then one
// column per period ("2024 ", "2024-05 ", "2025-Q2 "), ascending or (older
// files) descending. A cell is the value, a space and the flags: "5 p",
// ": ", and since 2025 the confidentiality status after an "@" (": @C",
// "7 p@C"). This is the format of the big monthly file, so the loop works
// on bytes, keeps dictionary ids per line and allocates nothing per cell
// (but for the few cells with an "@").

// eurostatTSVHeader is the parsed header line of a TSV file.
type eurostatTSVHeader struct {
	dims    []int    // batch column of each dimension in the first field
	names   []string // dimension names as published
	hasFreq bool
	periods []string // normalised period of each data column
	freqs   []byte   // 'A', 'M' or 'Q' of each data column
	labels  []string // period labels as published, for errors
}

// eurostatDimColumn maps a dimension name to its batch column.
func eurostatDimColumn(name string) (int, bool) {
	switch strings.ToLower(name) {
	case "freq":
		return esFreq, true
	case "unit":
		return esUnit, true
	case "citizen":
		return esCitizen, true
	case "sex":
		return esSex, true
	case "age":
		return esAge, true
	case "applicant", "asyl_app":
		return esApplicant, true
	case "decision":
		return esDecision, true
	case "geo":
		return esGeo, true
	}
	return 0, false
}

func parseEurostatTSVHeader(path string, line []byte) (*eurostatTSVHeader, error) {
	perr := func(col int, field, value string, err error) error {
		return &LocatedError{File: path, Line: 1, Column: fieldNumber(col), Header: field, Value: value, Err: err}
	}
	line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(line) {
		return nil, perr(0, "", "", ErrEurostatEncoding)
	}
	fields := strings.Split(string(line), "\t")
	first := fields[0]
	slash := strings.LastIndexByte(first, '\\')
	if slash < 0 {
		return nil, perr(1, "", first, fmt.Errorf("%w: the first column must read dims\\TIME_PERIOD or dims\\time", ErrEurostatHeader))
	}
	if t := strings.TrimSpace(first[slash+1:]); !strings.EqualFold(t, "TIME_PERIOD") && !strings.EqualFold(t, "time") {
		return nil, perr(1, "", first, fmt.Errorf("%w: the first column must end in \\TIME_PERIOD or \\time", ErrEurostatHeader))
	}
	h := &eurostatTSVHeader{}
	seen := map[int]bool{}
	for _, name := range strings.Split(first[:slash], ",") {
		name = strings.TrimSpace(name)
		col, ok := eurostatDimColumn(name)
		if !ok {
			return nil, perr(1, "", name, fmt.Errorf("%w: dimension %q is not one of freq, unit, citizen, sex, age, applicant/asyl_app, decision, geo", ErrEurostatHeader, name))
		}
		if seen[col] {
			return nil, perr(1, "", name, fmt.Errorf("%w: dimension %q appears twice", ErrEurostatHeader, name))
		}
		seen[col] = true
		h.dims = append(h.dims, col)
		h.names = append(h.names, strings.ToLower(name))
		h.hasFreq = h.hasFreq || col == esFreq
	}
	for _, need := range []int{esUnit, esCitizen, esSex, esAge, esGeo} {
		if !seen[need] {
			return nil, perr(1, "", first, fmt.Errorf("%w: dimension %s is missing", ErrEurostatHeader, esDictNames[need]))
		}
	}
	if seen[esApplicant] == seen[esDecision] {
		return nil, perr(1, "", first, fmt.Errorf("%w: expected exactly one of applicant (asyl_app) and decision", ErrEurostatHeader))
	}
	if len(fields) < 2 {
		return nil, perr(0, "", "", fmt.Errorf("%w: no period columns", ErrEurostatHeader))
	}
	periods := map[string]bool{}
	for i, f := range fields[1:] {
		label := strings.TrimSpace(f)
		p, freq, err := eurostatPeriod([]byte(label))
		if err != nil {
			return nil, perr(i+2, label, f, err)
		}
		if periods[p] {
			return nil, perr(i+2, label, f, fmt.Errorf("%w: period %s appears twice", ErrEurostatHeader, p))
		}
		periods[p] = true
		h.periods = append(h.periods, p)
		h.freqs = append(h.freqs, freq)
		h.labels = append(h.labels, label)
	}
	return h, nil
}

// parseEurostatTSV reads an API/bulk TSV file from r into b.
func parseEurostatTSV(ctx context.Context, r *bufio.Reader, meta *eurostatFileMeta, b *eurostatBatcher) error {
	path := meta.path
	lr := eurostatLineReader{r: r}
	readErr := func(err error) error {
		col := 1 + bytes.Count(lr.partial, []byte{'\t'})
		return &LocatedError{File: path, Line: lr.line + 1, Column: fieldNumber(col), Err: err}
	}
	first, err := lr.next()
	if err == io.EOF {
		return &LocatedError{File: path, Line: 1, Err: fmt.Errorf("%w: the file is empty", ErrEurostatHeader)}
	}
	if err != nil {
		return readErr(err)
	}
	h, err := parseEurostatTSVHeader(path, first)
	if err != nil {
		return err
	}
	nper := len(h.periods)
	var ids [esNDict]int32
	periodIDs := make([]int32, nper)
	freqIDs := make([]int32, nper)
	for j := range h.periods {
		periodIDs[j] = b.dicts[esPeriod].idString(h.periods[j])
		freqIDs[j] = b.dicts[esFreq].idString(string(h.freqs[j : j+1]))
	}
	dimVals := make([][]byte, len(h.dims))
	codes := meta.codes
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return readErr(err)
		}
		if lr.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// Dimensions.
		tab := bytes.IndexByte(line, '\t')
		if tab < 0 {
			return &LocatedError{File: path, Line: lr.line, Column: "2", Value: truncateForError(string(line)),
				Err: fmt.Errorf("%w: found 1 field, want %d", ErrEurostatRagged, nper+1)}
		}
		if err := eurostatSplitDims(line[:tab], dimVals); err != nil {
			return &LocatedError{File: path, Line: lr.line, Column: "1", Value: string(line[:tab]), Err: err}
		}
		ids[esApplicant] = b.dicts[esApplicant].idString("")
		ids[esDecision] = b.dicts[esDecision].idString("")
		lineFreq := byte(0)
		for k, col := range h.dims {
			v := dimVals[k]
			if !utf8.Valid(v) {
				return &LocatedError{File: path, Line: lr.line, Column: "1", Header: h.names[k], Value: string(v), Err: ErrEurostatEncoding}
			}
			if len(v) == 0 {
				return &LocatedError{File: path, Line: lr.line, Column: "1", Header: h.names[k], Err: errors.New("empty code")}
			}
			if col != esCitizen && col != esGeo && !codes.code(col, v) {
				return &LocatedError{File: path, Line: lr.line, Column: "1", Header: h.names[k], Value: string(v),
					Err: codes.unknownCode(meta.dataset, col, string(v), "code")}
			}
			if col == esFreq {
				lineFreq = v[0]
			}
			ids[col] = b.dicts[col].id(v)
		}
		if err := b.newSeries(lr.line, &ids); err != nil {
			return &LocatedError{File: path, Line: lr.line, Column: "1", Value: string(line[:tab]), Err: err}
		}
		// Cells.
		rest := line[tab+1:]
		for j := 0; j < nper; j++ {
			var cell []byte
			t := bytes.IndexByte(rest, '\t')
			switch {
			case t >= 0 && j == nper-1:
				return &LocatedError{File: path, Line: lr.line, Column: fieldNumber(nper + 2),
					Err: fmt.Errorf("%w: found more than %d fields", ErrEurostatRagged, nper+1)}
			case t >= 0:
				cell, rest = rest[:t], rest[t+1:]
			case j < nper-1:
				return &LocatedError{File: path, Line: lr.line, Column: fieldNumber(j + 3),
					Err: fmt.Errorf("%w: found %d fields, want %d", ErrEurostatRagged, j+2, nper+1)}
			default:
				cell = rest
			}
			v, ok, flags, err := eurostatCell(cell, codes)
			if err != nil {
				return &LocatedError{File: path, Line: lr.line, Column: fieldNumber(j + 2), Header: h.labels[j], Value: string(cell), Err: err}
			}
			if h.hasFreq {
				if lineFreq != h.freqs[j] {
					return &LocatedError{File: path, Line: lr.line, Column: fieldNumber(j + 2), Header: h.labels[j], Value: string(cell),
						Err: fmt.Errorf("freq %c does not match period %s", lineFreq, h.periods[j])}
				}
			} else {
				ids[esFreq] = freqIDs[j]
			}
			ids[esPeriod] = periodIDs[j]
			ids[esFlags] = b.dicts[esFlags].id(flags)
			if err := b.add(lr.line, &ids, v, ok); err != nil {
				return err
			}
		}
		if err := b.endLine(); err != nil {
			return err
		}
	}
}

// eurostatSplitDims splits "A,PER,AF,T,TOTAL,FRST,DE" into out, which must
// have exactly as many elements as there are dimensions.
func eurostatSplitDims(f []byte, out [][]byte) error {
	for k := range out {
		c := bytes.IndexByte(f, ',')
		if k == len(out)-1 {
			if c >= 0 {
				return fmt.Errorf("%w: more than %d comma-separated codes", ErrEurostatRagged, len(out))
			}
			out[k] = bytes.TrimSpace(f)
			return nil
		}
		if c < 0 {
			return fmt.Errorf("%w: %d comma-separated codes, want %d", ErrEurostatRagged, k+1, len(out))
		}
		out[k] = bytes.TrimSpace(f[:c])
		f = f[c+1:]
	}
	return nil
}
