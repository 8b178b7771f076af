package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/metrics"
)

// jobStore is the part of the store meteredStore decorates.
type jobStore struct {
	access.Store
	applyErr error
}

func (s jobStore) ApplyJobPart(context.Context, access.JobPart) error { return s.applyErr }
func (s jobStore) CompleteJob(context.Context, access.Job, access.JobStatus, access.Notification, access.Meta) error {
	return nil
}

// TestMeteredStoreCountsJobItemsAndDuration: an applied part publishes its items by outcome; a
// part that was already applied (a redelivery) publishes nothing; a completed job publishes its
// duration from submission.
func TestMeteredStoreCountsJobItemsAndDuration(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	em := &metrics.Emitter{Log: slog.New(slog.NewJSONHandler(&buf, nil)), Now: func() time.Time { return now }}
	ctx := context.Background()
	part := access.JobPart{TenantID: "t_1", JobID: "job_1", Counts: map[access.Outcome]int{access.OutcomeAssigned: 3, access.OutcomeNotPermitted: 1}}

	if err := (meteredStore{Store: jobStore{applyErr: access.ErrPartDone}, metrics: em, now: em.Now}).ApplyJobPart(ctx, part); !errors.Is(err, access.ErrPartDone) {
		t.Fatalf("err = %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("a redelivered part published %s", buf.String())
	}
	s := meteredStore{Store: jobStore{}, metrics: em, now: em.Now}
	if err := s.ApplyJobPart(ctx, part); err != nil {
		t.Fatal(err)
	}
	job := access.Job{ID: "job_1", TenantID: "t_1", Action: access.JobGrant, Total: 4, CreatedAt: now.Add(-90 * time.Second)}
	if err := s.CompleteJob(ctx, job, access.JobCompletedWithErrors, access.Notification{}, access.Meta{}); err != nil {
		t.Fatal(err)
	}
	items := map[string]float64{}
	var duration map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if v, ok := r[metrics.JobItems].(float64); ok {
			items[r[metrics.DimOutcome].(string)] = v
		}
		if _, ok := r[metrics.JobDuration]; ok {
			duration = r
		}
	}
	if items["assigned"] != 3 || items["not_permitted"] != 1 || len(items) != 2 {
		t.Errorf("job items = %v, want assigned 3 and not_permitted 1", items)
	}
	if duration == nil || duration[metrics.JobDuration] != float64(90) || duration[metrics.DimStatus] != "completed_with_errors" || duration[metrics.DimAction] != "grant" {
		t.Errorf("job duration line = %v, want 90 s, grant, completed_with_errors", duration)
	}
}
