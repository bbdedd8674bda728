package sources

import (
	"bytes"
	"errors"
	"fmt"
)

var errEurostatNoPeriod = errors.New("period is not YYYY, YYYY-MM, YYYYMmm, YYYY-Qq or YYYYQq")

// Numbers with a space where Eurostat writes none: they wrap
// ErrEurostatValue, and say what the space does to the number.
var (
	errEurostatSpaceBefore = fmt.Errorf(`%w: a space before the number; a cell is the number, then a space and its flags ("5 p")`, ErrEurostatValue)
	errEurostatSpaceInside = fmt.Errorf(`%w: a space inside the number (a thousands separator?); Eurostat writes 1234, without separators`, ErrEurostatValue)
	errEurostatSpaceAround = fmt.Errorf(`%w: a space before or after the number`, ErrEurostatValue)
)

// eurostatPeriod normalises a period label: "2019" stays, "2021M12" and
// "2021-12" become "2021-12", "2025Q2" and "2025-Q2" become "2025-Q2".
// It returns the frequency, 'A', 'M' or 'Q'. A quarter is a period of its
// own, stored as "2025-Q2" with the year 2025 and no month (see
// eurostatPeriodParts). A year before MinYear or after next year is an
// error wrapping ErrImplausibleYear.
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
	case len(p) == 6 && p[4] == 'Q' && p[5] >= '1' && p[5] <= '4',
		len(p) == 7 && p[4] == '-' && p[5] == 'Q' && p[6] >= '1' && p[6] <= '4':
		period, freq = string(p[:4])+"-Q"+string(p[len(p)-1]), 'Q'
	default:
		return "", 0, errEurostatNoPeriod
	}
	if err := checkYear(year); err != nil {
		return "", 0, err
	}
	return period, freq, nil
}

// eurostatPeriodParts returns the frequency, year and month (0 for none)
// of a period as eurostatPeriod normalised it: "2023" is annual, "2023-05"
// monthly (month 5), "2023-Q2" quarterly, with the year 2023 and no month;
// its quarter is in the period alone.
func eurostatPeriodParts(p string) (freq byte, year, month int) {
	year = int(p[0]-'0')*1000 + int(p[1]-'0')*100 + int(p[2]-'0')*10 + int(p[3]-'0')
	switch {
	case len(p) == 4:
		return 'A', year, 0
	case p[5] == 'Q':
		return 'Q', year, 0
	}
	return 'M', year, int(p[5]-'0')*10 + int(p[6]-'0')
}

// eurostatCell splits a TSV cell such as "5 p", ": ", ": c", "1 ep" or
// "17" into its number and flags. It returns ok false for ':' (not
// available). Since 27 January 2025 the confidentiality status follows an
// "@" (": @C", "7 p@C"); its letters are appended to the observation
// status letters, as the SDMX-CSV path appends CONF_STATUS to OBS_FLAG, so
// that "7 p@C" has the flags "pC" from either format. A non-nil error is
// ErrEurostatValue, ErrImplausibleCount or ErrEurostatUnknownFlag; cl
// gives the flag letters a cell may carry.
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
	if at := bytes.IndexByte(flags, '@'); at >= 0 {
		obs, conf := flags[:at], flags[at+1:]
		if len(conf) == 0 {
			return 0, false, nil, fmt.Errorf("%w: an @ without a confidentiality status after it (e.g. \": @C\")", ErrEurostatUnknownFlag)
		}
		if i := cl.confFlags.check(conf); i >= 0 {
			return 0, false, nil, fmt.Errorf("%w %q: after @ come only the conf_status letters of %s",
				ErrEurostatUnknownFlag, conf[i:i+1], cl.flagsFile)
		}
		if i := cl.cellFlags.check(obs); i >= 0 {
			return 0, false, nil, cl.unknownFlag(obs[i : i+1])
		}
		// A new slice: the cell is the reader's buffer. Cells with a
		// confidentiality status are few.
		flags = append(obs[:len(obs):len(obs)], conf...)
	} else if i := cl.cellFlags.check(flags); i >= 0 {
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
