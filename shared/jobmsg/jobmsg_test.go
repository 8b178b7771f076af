package jobmsg

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

func TestMessagesReadBackAsWritten(t *testing.T) {
	f := access.JobFanOut{TenantID: "t_1", JobID: "job_1", From: 0, To: 250, CreatedAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	body, err := FanOut(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(body)
	if err != nil || got.Chunk != nil || got.FanOut == nil || !reflect.DeepEqual(*got.FanOut, f) {
		t.Errorf("Decode(FanOut(f)) = %+v, %v; want the fan-out %+v", got, err, f)
	}
	ch := access.JobChunk{TenantID: "t_1", JobID: "job_1", Index: 3, Action: access.JobGrant, RequesterID: "u_1",
		ConsultantID: "u_2", ClientIDs: []string{"c_1", "c_2"}}
	body, err = Chunk(ch)
	if err != nil {
		t.Fatal(err)
	}
	got, err = Decode(body)
	if err != nil || got.FanOut != nil || got.Chunk == nil || !reflect.DeepEqual(*got.Chunk, ch) {
		t.Errorf("Decode(Chunk(ch)) = %+v, %v; want the chunk %+v", got, err, ch)
	}
}

func TestUnreadableMessagesArePoison(t *testing.T) {
	for _, body := range []string{
		"", "not json", "[]", `{"kind":"other"}`, `{"kind":"fanout","tenantId":"t_1","jobId":"job_1","from":5,"to":5}`,
		`{"tenantId":"t_1","jobId":"job_1","clientIds":[]}`, `{"tenantId":1}`,
	} {
		if _, err := Decode(body); !errors.Is(err, ErrPoison) {
			t.Errorf("Decode(%q) = %v, want ErrPoison", body, err)
		}
	}
}
