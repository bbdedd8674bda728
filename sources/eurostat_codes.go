package sources

import (
	"errors"
	"strconv"
)

var errEurostatNoPeriod = errors.New("period is not YYYY, YYYY-MM or YYYYMmm")

// eurostatPeriod normalises a period label: "2019" stays, "2021M12" and
// "2021-12" become "2021-12". It returns the frequency, 'A' or 'M'.
func eurostatPeriod(p []byte) (string, byte, error) {
	digits := func(b []byte) bool {
		for _, c := range b {
			if c < '0' || c > '9' {
				return false
			}
		}
		return len(b) > 0
	}
	switch {
	case len(p) == 4 && digits(p):
		return string(p), 'A', nil
	case len(p) == 7 && digits(p[:4]) && (p[4] == 'M' || p[4] == '-') && digits(p[5:]):
		m := (p[5]-'0')*10 + p[6] - '0'
		if m < 1 || m > 12 {
			return "", 0, errEurostatNoPeriod
		}
		return string(p[:4]) + "-" + string(p[5:]), 'M', nil
	}
	return "", 0, errEurostatNoPeriod
}

// eurostatNumber parses a published number: an optional minus, digits, an
// optional fraction. With thousands true, commas must group the integer
// part by three ("17,445"). Anything else (exponents, NaN, Inf, spaces) is
// rejected so that every accepted value is one the cell spelled out.
func eurostatNumber(b []byte, thousands bool) (float64, bool) {
	s := b
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	intEnd := len(s)
	for i, c := range s {
		if c == '.' {
			intEnd = i
			break
		}
	}
	ip, frac := s[:intEnd], s[intEnd:]
	if len(ip) == 0 {
		return 0, false
	}
	if len(frac) > 0 {
		if len(frac) == 1 {
			return 0, false
		}
		for _, c := range frac[1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
	}
	// Fast path: small integers, the overwhelming case.
	var n int64
	simple := len(ip) <= 15 && len(frac) == 0
	group := -1 // digits since the last comma, -1 before any comma
	commas := false
	for i, c := range ip {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
			if group >= 0 {
				group++
				if group > 3 {
					return 0, false
				}
			}
		case c == ',' && thousands:
			if i == 0 || i > 3 && !commas || group >= 0 && group != 3 {
				return 0, false
			}
			commas = true
			group = 0
		default:
			return 0, false
		}
	}
	if group >= 0 && group != 3 {
		return 0, false
	}
	if simple && !commas {
		if len(s) != len(b) {
			return float64(-n), true
		}
		return float64(n), true
	}
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c != ',' {
			clean = append(clean, c)
		}
	}
	v, err := strconv.ParseFloat(string(clean), 64)
	if err != nil {
		return 0, false
	}
	return v, true
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
	if i := cl.cellFlags.check(flags); i >= 0 {
		return 0, false, nil, cl.unknownFlag(flags[i : i+1])
	}
	if len(num) == 1 && num[0] == ':' {
		return 0, false, flags, nil
	}
	v, ok = eurostatNumber(num, false)
	if !ok {
		return 0, false, nil, ErrEurostatValue
	}
	if !plausibleCount(v) {
		return 0, false, nil, ErrImplausibleCount
	}
	return v, true, flags, nil
}
