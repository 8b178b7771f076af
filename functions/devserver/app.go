package main

import (
	"context"

	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/devserver"
)

// newApp builds the application the Lambdas run and hands the dev server its parts.
func newApp(ctx context.Context, cfg config.Config) (devserver.App, error) {
	a, err := app.New(ctx, cfg)
	if err != nil {
		return devserver.App{}, err
	}
	return devserver.App{
		API:          func(function string) devserver.APIHandler { return a.API(function) },
		CreateTenant: a.Service.CreateTenant,
		UserByEmail:  a.Service.UserByEmail,
		// The workers plug in here, one line each, once the app has them:
		//	JobWorker: a.JobWorker(),
		//	Scheduled: []devserver.Scheduled{{Name: routes.FnAnonymiser, Every: time.Hour, Run: a.Anonymiser()}},
	}, nil
}
