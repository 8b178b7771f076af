package main

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/app"
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
	return devserver.App{
		API:          func(function string) devserver.APIHandler { return a.API(function) },
		CreateTenant: a.People.CreateTenant,
		UserByEmail:  a.People.UserByEmail,
		// The workers, fed by the dev server's SQS pollers and ticker as AWS would feed them.
		JobWorker:    a.JobWorker(),
		EventsWorker: a.EventsWorker(),
		Scheduled: []devserver.Scheduled{{Name: routes.FnAnonymiser, Every: time.Hour, Run: func(ctx context.Context) error {
			return a.Anonymiser()(ctx, app.ScheduledEvent(time.Now()))
		}}, {Name: "outbox", Every: time.Minute, Run: func(ctx context.Context) error {
			return a.Anonymiser()(ctx, app.OutboxSweepEvent(time.Now()))
		}}},
	}, nil
}
