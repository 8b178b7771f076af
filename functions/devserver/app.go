package main

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/app/allclients"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
	"github.com/tilgang/tilgang/shared/routes"
)

// newApp builds the application the Lambdas run and hands the dev server its parts.
func newApp(ctx context.Context, cfg config.Config) (devserver.App, error) {
	a, err := app.New(ctx, cfg)
	if err != nil {
		return devserver.App{}, err
	}
	allclients.Wire(a)
	d := allclients.DevServerApp(a)
	d.Scheduled = []devserver.Scheduled{{Name: routes.FnAnonymiser, Every: time.Hour, Run: func(ctx context.Context) error {
		return a.Anonymiser()(ctx, app.ScheduledEvent(time.Now()))
	}}, {Name: "outbox", Every: time.Minute, Run: func(ctx context.Context) error {
		return a.Anonymiser()(ctx, app.OutboxSweepEvent(time.Now()))
	}}}
	return d, nil
}
