package access

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkRightsDecisionReason is the whole in-process decision of a request on one client:
// the user's rights computed from their groups and roles, the decision, and its reason. The
// reason is kept as data and put in words only when asked for (Decision.Reason), so the line
// it prints gives three figures measured in the same run, since this machine's load moves
// absolute times:
//
//   - rights+decision, the reason kept: what every request pays. This is the target figure of
//     issue 17 ("at most 2 µs for rights computed + decision + reason, the reason built lazily,
//     only when asked for or logged").
//   - the same with the reason put in words: what POST /v1/authorize and a refusal pay.
//   - the bare rule (FactsLevel on rights computed beforehand), about 25-100 ns.
//
// The ns/op and allocs/op the benchmark reports are those of the first figure.
func BenchmarkRightsDecisionReason(b *testing.B) {
	therapist := person("ther")
	therapist.GroupIDs = []string{gTherapist.ID, gBookkeeper.ID}
	groups := map[string]Group{gTherapist.ID: gTherapist, gBookkeeper.ID: gBookkeeper, gSecretary.ID: gSecretary}
	consultant := person("cons", RoleConsultant)
	cases := []struct {
		name string
		u    User
		r    Request
	}{
		{"therapist assigned", therapist, Request{Op: OpAccess, Level: LevelEdit, Area: AreaClients,
			Client: &ClientFacts{Client: manualClient, Assignment: assigned(LevelEdit, AssignedByAppointment)}}},
		{"consultant granted program", consultant, Request{Op: OpAccess, Level: LevelEdit, Area: AreaClients, Program: "payroll",
			Client: &ClientFacts{Client: manualClient, Grant: bureauGrant(GrantLevel, "bookkeeping", "payroll")}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			decide := func() Decision { return Decide(Principal{User: c.u, Effective: Compute(c.u, groups)}, c.r) }
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if d := decide(); !d.Allowed {
					b.Fatalf("refused: %s", d.Reason())
				}
			}
			kept := time.Since(start) / time.Duration(b.N)
			start = time.Now()
			for range b.N {
				if d := decide(); !d.Allowed || d.Reason() == "" {
					b.Fatalf("refused: %s", d.Reason())
				}
			}
			worded := time.Since(start) / time.Duration(b.N)
			eff := Compute(c.u, groups)
			start = time.Now()
			for range b.N {
				if FactsLevel(&eff, c.r.Area, c.r.Client) == "" {
					b.Fatal("no level")
				}
			}
			bare := time.Since(start) / time.Duration(b.N)
			allocsKept := testing.AllocsPerRun(100, func() { decide() })
			allocsWorded := testing.AllocsPerRun(100, func() { d := decide(); _ = d.Reason() })
			b.ReportMetric(float64(worded.Nanoseconds()), "ns-worded/op")
			b.ReportMetric(float64(bare.Nanoseconds()), "ns-bare/op")
			fmt.Fprintf(os.Stdout, "DECIDE %-28s rights+decision, reason kept %5d ns, %1.0f allocs (target <= 2,000 ns); reason in words %5d ns, %1.0f allocs; bare rule %3d ns, all in the same run\n",
				c.name, kept.Nanoseconds(), allocsKept, worded.Nanoseconds(), allocsWorded, bare.Nanoseconds())
		})
	}
}
