package apitest

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// BenchRatio measures subject against a baseline in the same run, alternating them in rounds
// (each going first in turn) so that machine noise hits both alike, and reports subject's time per op, the baseline's and
// their ratio ("x-baseline"). Speed targets are read from that ratio, never from wall-clock
// assertions.
//
// The ratio is the median of the rounds' ratios, and each side of a round runs for at least
// minRoundTime: on a shared 2-core machine one stall (a GC, the local server's compaction,
// another process) would otherwise decide a total over a few milliseconds of the baseline.
func BenchRatio(b *testing.B, baseline, subject func(b *testing.B)) float64 {
	b.Helper()
	const rounds = 7
	// A benchmark whose setup is slow is run with b.N = 1; ten runs a round at the least keep
	// one noisy call from deciding a round.
	minCalls := max(b.N/rounds, 10)
	var ratios []float64
	var base, subj time.Duration
	for r := range rounds {
		// Each side goes first in turn, so that neither always meets what the other left behind
		// (a warm connection pool, a server busy finishing its writes).
		var bt, st time.Duration
		if r%2 == 0 {
			bt, st = perOp(b, baseline, minCalls), perOp(b, subject, minCalls)
		} else {
			st, bt = perOp(b, subject, minCalls), perOp(b, baseline, minCalls)
		}
		ratios = append(ratios, float64(st)/float64(bt))
		base, subj = base+bt, subj+st
	}
	slices.Sort(ratios)
	ratio := ratios[rounds/2]
	b.ReportMetric(float64(subj.Nanoseconds())/rounds, "subject-ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/rounds, "baseline-ns/op")
	b.ReportMetric(ratio, "x-baseline")
	return ratio
}

// minRoundTime is how long each side of a round runs at the least.
const minRoundTime = 50 * time.Millisecond

// perOp runs f at least minCalls times and for at least minRoundTime, and returns its time per
// call.
func perOp(b *testing.B, f func(b *testing.B), minCalls int) time.Duration {
	start := time.Now()
	n := 0
	for n < minCalls || time.Since(start) < minRoundTime {
		f(b)
		n++
	}
	return time.Since(start) / time.Duration(n)
}

// PrintRatio writes a one-line summary that `make bench` shows.
func PrintRatio(name string, ratio, target float64) {
	verdict := "within target"
	if ratio > target {
		verdict = "OVER target"
	}
	fmt.Fprintf(os.Stdout, "RATIO %-40s %6.2fx baseline (target < %.1fx): %s\n", name, ratio, target, verdict)
}
