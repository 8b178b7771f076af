package access

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkRightsDecisionReason is the whole in-process decision of a request on one client:
// the user's rights computed from their groups and roles, the decision, and its reason in
// words. Target: at most 2 µs, where the bare rule (ClientLevel on computed rights) takes about
// 100 ns; the line it prints gives both, measured in the same run, since this machine's load
// moves absolute times.
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
			eff := Compute(c.u, groups)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				d := Decide(Principal{User: c.u, Effective: Compute(c.u, groups)}, c.r)
				if !d.Allowed || d.Reason == "" {
					b.Fatalf("refused: %s", d.Reason)
				}
			}
			whole := time.Since(start) / time.Duration(b.N)
			start = time.Now()
			for range b.N {
				if FactsLevel(&eff, c.r.Area, c.r.Client) == "" {
					b.Fatal("no level")
				}
			}
			bare := time.Since(start) / time.Duration(b.N)
			allocs := testing.AllocsPerRun(100, func() { Decide(Principal{User: c.u, Effective: Compute(c.u, groups)}, c.r) })
			fmt.Fprintf(os.Stdout, "DECIDE %-28s rights+decision+reason %6d ns, %2.0f allocs; bare rule %4d ns in the same run (target <= 2,000 ns at ~100 ns bare)\n",
				c.name, whole.Nanoseconds(), allocs, bare.Nanoseconds())
		})
	}
}
