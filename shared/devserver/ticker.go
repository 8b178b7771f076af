package devserver

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tilgang/tilgang/shared/tracing"
)

// Ticker runs a scheduled job every Every, and on demand with RunNow; runs never overlap.
type Ticker struct {
	Name  string
	Every time.Duration
	Job   func(context.Context) error
	Log   *slog.Logger

	mu sync.Mutex
}

// Run calls the job every Every until ctx ends; failures are logged.
func (t *Ticker) Run(ctx context.Context) {
	if t.Every <= 0 {
		return
	}
	tick := time.NewTicker(t.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := t.RunNow(ctx); err != nil && ctx.Err() == nil {
				log := t.Log
				if log == nil {
					log = slog.Default()
				}
				log.Error("scheduled job failed", "job", t.Name, "err", err)
			}
		}
	}
}

// RunNow runs the job once, waiting for a run in progress to finish first.
func (t *Ticker) RunNow(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.Job(tracing.WithHeader(ctx, tracing.NewHeader(time.Now())))
}
