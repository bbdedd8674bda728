package plot

import (
	"math"
	"strconv"
	"strings"
)

// The number formats of a chart live here, so that the tick labels, the
// description and the CSV show one value the same way.

// drawn returns the value a chart draws for v: v itself for a count, the
// percentage rounded to one decimal for a Percent chart, so that what the
// picture shows is what the CSV says.
func drawn(c Chart, v float64) float64 {
	if !c.Percent {
		return v
	}
	p, err := strconv.ParseFloat(strconv.FormatFloat(v*100, 'f', 1, 64), 64)
	if err != nil { // FormatFloat always writes a number ParseFloat reads
		return v * 100
	}
	return p
}

// csvNumber writes a drawn value as a plain number: '.' for the decimal
// point, no thousands separators, no trailing ".0".
func csvNumber(c Chart, v float64) string {
	d := drawn(c, v)
	if c.Percent {
		return strings.TrimSuffix(strconv.FormatFloat(d, 'f', 1, 64), ".0")
	}
	return strconv.FormatFloat(d, 'f', -1, 64)
}

// valueLabel writes a value for a reader: 6,995,221 or 27.1%.
func valueLabel(c Chart, v float64) string {
	d := drawn(c, v)
	if c.Percent {
		return grouped(d, 1) + "%"
	}
	return grouped(d, 2)
}

// tickLabel writes an axis tick with the decimals its step needs.
func tickLabel(c Chart, v float64, decimals int) string {
	s := grouped(v, decimals)
	if c.Percent {
		s += "%"
	}
	return s
}

// grouped writes v with commas between thousands and at most decimals
// decimals, dropping trailing zeros: 1234567 -> "1,234,567",
// 12.50 -> "12.5".
func grouped(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// stepDecimals is the number of decimals that tick labels at multiples of
// step need (0 for 2,000,000, 1 for 2.5).
func stepDecimals(step float64) int {
	for d := 0; d < 6; d++ {
		scaled := step * math.Pow(10, float64(d))
		if math.Abs(scaled-math.Round(scaled)) < 1e-9*math.Max(1, scaled) {
			return d
		}
	}
	return 6
}

// niceScale returns an axis from lo to hi (lo <= 0 <= hi) widened to
// multiples of a round step (1, 2, 2.5 or 5 times a power of ten) giving
// three to five intervals. Counts get whole steps only.
func niceScale(lo, hi float64, whole bool) (min, max, step float64) {
	if hi-lo <= 0 {
		hi = lo + 1
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		step = f * mag
		if whole && (step < 1 || step != math.Trunc(step)) {
			continue
		}
		if step >= raw {
			break
		}
	}
	if whole && step < 1 {
		step = 1
	}
	min = math.Floor(lo/step) * step
	max = math.Ceil(hi/step) * step
	if max <= min {
		max = min + step
	}
	return min, max, step
}
