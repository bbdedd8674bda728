package sources

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// MaxCount is the largest count of persons, applications, decisions or
// visas any source may publish: ten billion, more than the world's
// population, so that a value above it is a broken file, not a figure.
const MaxCount = 1e10

// ErrImplausibleCount marks a published count that is negative, not a whole
// number, or larger than MaxCount. Every source refuses such a value with a
// located error instead of publishing it.
var ErrImplausibleCount = errors.New("expected a count: a whole number from 0 to 10,000,000,000")

// plausibleCount reports whether v is a count a source may publish: a whole
// number from 0 to MaxCount. NaN, the infinities and -0 (a "-0" or "-0.0"
// in a file, which a database keeps apart from 0) are not.
func plausibleCount(v float64) bool {
	return v >= 0 && v <= MaxCount && v == math.Trunc(v) && !math.Signbit(v)
}

// parsePublishedNumber parses a number as the publishers write one: digits,
// optionally a fraction ("12.5"), optionally a leading minus, so that a
// negative or fractional value reaches plausibleCount and is refused as
// what it is. With thousands true, commas may group the integer part by
// three ("17,445", the legacy Eurostat export). Nothing else is a number:
// not the forms strconv.ParseFloat also takes ("1_7", "+17", "1.7e1",
// "0x1p4", "17.", ".5", "Inf"), nor spaces around it, so that every
// accepted value is one the file spelled out.
func parsePublishedNumber(b []byte, thousands bool) (float64, bool) {
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
			// -float64(0) is -0, which plausibleCount refuses as it
			// refuses "-0.0".
			return -float64(n), true
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

// MinYear is the earliest year a source may publish figures for: UNHCR's
// statistics start in 1951, the Commission's and Eurostat's decades later.
const MinYear = 1950

// ErrImplausibleYear marks a year before MinYear or after next year: a
// broken file, or a column that is not the year.
var ErrImplausibleYear = errors.New("expected a year from 1950 to next year")

// errYearSyntax is the error for a year that is not four digits.
var errYearSyntax = errors.New("year is not a four-digit integer")

// checkYear returns nil for a year a source may publish, from MinYear to
// next year, and otherwise an error wrapping ErrImplausibleYear.
func checkYear(y int) error {
	if next := time.Now().Year() + 1; y < MinYear || y > next {
		return fmt.Errorf("%w: %d is before %d or after %d", ErrImplausibleYear, y, MinYear, next)
	}
	return nil
}

// parseYear reads a year written as four ASCII digits (not "+2022" or
// " 2022", which strconv.Atoi would take) and checks it with checkYear.
func parseYear(s string) (int, error) {
	if len(s) != 4 {
		return 0, errYearSyntax
	}
	y := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, errYearSyntax
		}
		y = y*10 + int(c-'0')
	}
	return y, checkYear(y)
}
