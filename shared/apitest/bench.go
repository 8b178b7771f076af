package apitest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchRatio measures subject against a baseline in the same run, alternating them in rounds
// so that machine noise hits both alike, and reports subject's time per op, the baseline's and
// their ratio ("x-baseline"). Speed targets are read from that ratio, never from wall-clock
// assertions.
func BenchRatio(b *testing.B, baseline, subject func(b *testing.B)) float64 {
	b.Helper()
	var base, subj time.Duration
	n := 0
	const rounds = 5
	// A benchmark whose setup is slow is run with b.N = 1; ten runs a round at the least keep
	// one noisy call from deciding its ratio.
	per := max(b.N/rounds, 10)
	for range rounds {
		start := time.Now()
		for range per {
			baseline(b)
		}
		base += time.Since(start)
		start = time.Now()
		for range per {
			subject(b)
		}
		subj += time.Since(start)
		n += per
	}
	ratio := float64(subj) / float64(base)
	b.ReportMetric(float64(subj.Nanoseconds())/float64(n), "subject-ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(n), "baseline-ns/op")
	b.ReportMetric(ratio, "x-baseline")
	return ratio
}

// PrintRatio writes a one-line summary that `make bench` shows.
func PrintRatio(name string, ratio, target float64) {
	verdict := "within target"
	if ratio > target {
		verdict = "OVER target"
	}
	fmt.Fprintf(os.Stdout, "RATIO %-40s %6.2fx baseline (target < %.1fx): %s\n", name, ratio, target, verdict)
}
