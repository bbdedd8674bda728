package sources

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Code lists of the small dimensions. They are switch statements rather
// than package-level maps so that nothing global can be changed. A code or
// label that is not listed is an error: a new breakdown upstream must be
// looked at before it reaches the observations.

// eurostatDimCode validates a code of dimension dim ("unit", "sex", "age",
// "applicant", "decision", "freq") and returns it unchanged.
func eurostatDimCode(dim, code string) (string, bool) {
	ok := false
	switch dim {
	case "freq":
		ok = code == "A" || code == "M"
	case "unit":
		ok = code == "PER"
	case "sex":
		switch code {
		case "T", "F", "M", "UNK":
			ok = true
		}
	case "age":
		switch code {
		case "TOTAL", "Y_LT14", "Y14-17", "Y_LT18", "Y18-34", "Y35-64", "Y_GE65", "Y_GE18", "UNK":
			ok = true
		}
	case "applicant":
		// asyl_app used ASY_APP (asylum applicant) and NASY_APP (first
		// time applicant); applicant uses FRST, SUBS and NASY_APP.
		switch code {
		case "ASY_APP", "NASY_APP", "FRST", "SUBS", "TOTAL":
			ok = true
		}
	case "decision":
		switch code {
		case "TOTAL", "TOTAL_POS", "REJECTED", "GENCONV", "HUMSTAT", "SUB_PROT", "TEMP_PROT":
			ok = true
		}
	}
	return code, ok
}

// eurostatDimLabel maps a label of the legacy appsso export to its code.
// Labels compare case-insensitively with surrounding space removed.
func eurostatDimLabel(dim, label string) (string, bool) {
	l := strings.ToLower(strings.Join(strings.Fields(label), " "))
	code := ""
	switch dim {
	case "unit":
		if l == "person" {
			code = "PER"
		}
	case "sex":
		switch l {
		case "total":
			code = "T"
		case "females":
			code = "F"
		case "males":
			code = "M"
		case "unknown":
			code = "UNK"
		}
	case "age":
		switch l {
		case "total":
			code = "TOTAL"
		case "less than 14 years":
			code = "Y_LT14"
		case "from 14 to 17 years":
			code = "Y14-17"
		case "less than 18 years":
			code = "Y_LT18"
		case "from 18 to 34 years":
			code = "Y18-34"
		case "from 35 to 64 years":
			code = "Y35-64"
		case "65 years or over":
			code = "Y_GE65"
		case "18 years or over":
			code = "Y_GE18"
		case "unknown":
			code = "UNK"
		}
	case "applicant":
		switch l {
		case "asylum applicant":
			code = "ASY_APP"
		case "first time applicant":
			code = "NASY_APP"
		case "subsequent applicant":
			code = "SUBS"
		}
	case "decision":
		switch l {
		case "total":
			code = "TOTAL"
		case "total positive decisions":
			code = "TOTAL_POS"
		case "rejected":
			code = "REJECTED"
		case "geneva convention status":
			code = "GENCONV"
		case "humanitarian status":
			code = "HUMSTAT"
		case "subsidiary protection status":
			code = "SUB_PROT"
		case "temporary protection status":
			code = "TEMP_PROT"
		}
	}
	return code, code != ""
}

// eurostatFlagLetter reports whether c is an observation flag letter of
// Eurostat's code list: b d e f i m n p u (current list), c s z r (codes
// before 27 January 2025) and C (confidential since then).
func eurostatFlagLetter(c byte) bool {
	switch c {
	case 'b', 'd', 'e', 'f', 'i', 'm', 'n', 'p', 'u', 'c', 's', 'z', 'r', 'C':
		return true
	}
	return false
}

// eurostatCheckFlags returns the position (0-based) of the first byte of
// flags that is not a known flag letter, or -1.
func eurostatCheckFlags(flags []byte) int {
	for i := 0; i < len(flags); i++ {
		if !eurostatFlagLetter(flags[i]) {
			return i
		}
	}
	return -1
}

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
// available). A non-nil error is ErrEurostatValue or ErrEurostatUnknownFlag.
func eurostatCell(cell []byte) (v float64, ok bool, flags []byte, err error) {
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
	if i := eurostatCheckFlags(flags); i >= 0 {
		return 0, false, nil, fmt.Errorf("%w %q", ErrEurostatUnknownFlag, flags[i:i+1])
	}
	if len(num) == 1 && num[0] == ':' {
		return 0, false, flags, nil
	}
	v, ok = eurostatNumber(num, false)
	if !ok {
		return 0, false, nil, ErrEurostatValue
	}
	return v, true, flags, nil
}
