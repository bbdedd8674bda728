package sources

import (
	"bytes"
	"errors"
	"fmt"
)

var errEurostatNoPeriod = errors.New("period is not YYYY, YYYY-MM or YYYYMmm")

// Numbers with a space where Eurostat writes none: they wrap
// ErrEurostatValue, and say what the space does to the number.
var (
	errEurostatSpaceBefore = fmt.Errorf(`%w: a space before the number; a cell is the number, then a space and its flags ("5 p")`, ErrEurostatValue)
	errEurostatSpaceInside = fmt.Errorf(`%w: a space inside the number (a thousands separator?); Eurostat writes 1234, without separators`, ErrEurostatValue)
	errEurostatSpaceAround = fmt.Errorf(`%w: a space before or after the number`, ErrEurostatValue)
)

// eurostatPeriod normalises a period label: "2019" stays, "2021M12" and
// "2021-12" become "2021-12". It returns the frequency, 'A' or 'M'. A year
// before MinYear or after next year is an error wrapping
// ErrImplausibleYear.
func eurostatPeriod(p []byte) (string, byte, error) {
	digits := func(b []byte) bool {
		for _, c := range b {
			if c < '0' || c > '9' {
				return false
			}
		}
		return len(b) > 0
	}
	if len(p) < 4 || !digits(p[:4]) {
		return "", 0, errEurostatNoPeriod
	}
	year := int(p[0]-'0')*1000 + int(p[1]-'0')*100 + int(p[2]-'0')*10 + int(p[3]-'0')
	var period string
	var freq byte
	switch {
	case len(p) == 4:
		period, freq = string(p), 'A'
	case len(p) == 7 && (p[4] == 'M' || p[4] == '-') && digits(p[5:]):
		m := (p[5]-'0')*10 + p[6] - '0'
		if m < 1 || m > 12 {
			return "", 0, errEurostatNoPeriod
		}
		period, freq = string(p[:4])+"-"+string(p[5:]), 'M'
	default:
		return "", 0, errEurostatNoPeriod
	}
	if err := checkYear(year); err != nil {
		return "", 0, err
	}
	return period, freq, nil
}

// eurostatCell splits a TSV cell such as "5 p", ": ", ": c", "1 ep" or
// "17" into its number and flags. It returns ok false for ':' (not
// available). A non-nil error is ErrEurostatValue, ErrImplausibleCount or
// ErrEurostatUnknownFlag;
// cl gives the flag letters a cell may carry.
func eurostatCell(cell []byte, cl *eurostatCodeLists) (v float64, ok bool, flags []byte, err error) {
	end := len(cell)
	for end > 0 && cell[end-1] == ' ' {
		end--
	}
	cell = cell[:end]
	num := cell
	for i, c := range cell {
		if c == ' ' {
			num = cell[:i]
			flags = cell[i+1:]
			for len(flags) > 0 && flags[0] == ' ' {
				flags = flags[1:]
			}
			break
		}
	}
	// A space that does not separate a number from its flags is part of
	// a badly written number, not the start of its flags: say so rather
	// than call a digit an unknown flag.
	if len(num) == 0 && len(flags) > 0 {
		return 0, false, nil, errEurostatSpaceBefore
	}
	if bytes.ContainsAny(flags, "0123456789") {
		return 0, false, nil, errEurostatSpaceInside
	}
	if i := cl.cellFlags.check(flags); i >= 0 {
		return 0, false, nil, cl.unknownFlag(flags[i : i+1])
	}
	if len(num) == 1 && num[0] == ':' {
		return 0, false, flags, nil
	}
	v, ok = parsePublishedNumber(num, false)
	if !ok {
		return 0, false, nil, ErrEurostatValue
	}
	if !plausibleCount(v) {
		return 0, false, nil, ErrImplausibleCount
	}
	return v, true, flags, nil
}
