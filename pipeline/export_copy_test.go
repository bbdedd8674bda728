package pipeline

import (
	"fmt"
	"testing"
)

// splitRanges keeps every key once, in order, whatever the cuts.
func TestSplitRanges(t *testing.T) {
	ranges := []keyRange{{"a", 1, 10}, {"b", 11, 20}, {"a", 30, 40}}
	for _, tc := range []struct {
		cuts []int64
		want string
	}{
		{nil, "[[{a 1 10} {b 11 20} {a 30 40}]]"},
		{[]int64{5}, "[[{a 1 4}] [{a 5 10} {b 11 20} {a 30 40}]]"},
		{[]int64{11}, "[[{a 1 10}] [{b 11 20} {a 30 40}]]"},
		{[]int64{1, 11}, "[[{a 1 10}] [{b 11 20} {a 30 40}]]"},
		{[]int64{3, 6, 25, 35}, "[[{a 1 2}] [{a 3 5}] [{a 6 10} {b 11 20}] [{a 30 34}] [{a 35 40}]]"},
		{[]int64{20, 21}, "[[{a 1 10} {b 11 19}] [{b 20 20}] [{a 30 40}]]"},
		{[]int64{50}, "[[{a 1 10} {b 11 20} {a 30 40}]]"},
	} {
		if got := fmt.Sprint(splitRanges(ranges, tc.cuts)); got != tc.want {
			t.Errorf("cuts %v: %s, want %s", tc.cuts, got, tc.want)
		}
	}
}
