package output

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Thousands formats n with comma thousands separators: 520402 -> "520,402".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Percent formats a fraction as a percentage: a change signed with one
// decimal (-0.2428 -> "-24.3%"), a rate with two (0.1057 -> "10.57%"). A
// missing or non-finite value is "-".
func Percent(v *float64, signed bool) string {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return "-"
	}
	if signed {
		return fmt.Sprintf("%+.1f%%", *v*100)
	}
	return fmt.Sprintf("%.2f%%", *v*100)
}

// HumanBytes formats a file size in B, kB or MB (binary multiples).
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
