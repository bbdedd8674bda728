package xls

import "testing"

// BenchmarkOpen reads each shipped .xls file.
func BenchmarkOpen(b *testing.B) {
	for name, path := range realFiles(b) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Open(path, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
