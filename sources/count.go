package sources

import (
	"errors"
	"math"
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
// number from 0 to MaxCount. NaN and the infinities are not.
func plausibleCount(v float64) bool {
	return v >= 0 && v <= MaxCount && v == math.Trunc(v)
}
