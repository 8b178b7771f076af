package app

import (
	"log/slog"
	"time"

	"github.com/tilgang/tilgang/shared/access/clients"
	"github.com/tilgang/tilgang/shared/access/expiry"
	"github.com/tilgang/tilgang/shared/access/jobs"
	"github.com/tilgang/tilgang/shared/access/people"
	"github.com/tilgang/tilgang/shared/access/reviews"
	"github.com/tilgang/tilgang/shared/config"
	"github.com/tilgang/tilgang/shared/dynamo"
)

// wireReviews builds the access reviews (over the other use cases, which apply their revokes)
// and the expiry sweep, with the notice period and the notification retention.
func wireReviews(store *dynamo.Store, ppl *people.Service, cls *clients.Service, jbs *jobs.Service, cfg config.Config,
	log *slog.Logger) (*reviews.Service, *expiry.Service) {
	retention := time.Duration(cfg.NotificationRetentionDays) * 24 * time.Hour
	rvs := reviews.New(store, cls, ppl, jbs)
	rvs.NotificationRetention, rvs.Log = retention, log
	exp := expiry.New(store)
	exp.NotificationRetention = retention
	exp.ExpiryNotice = time.Duration(cfg.ExpiryNoticeDays) * 24 * time.Hour
	return rvs, exp
}

// SetClock gives every use-case service the same clock (tests move time with it).
func (a *App) SetClock(now func() time.Time) {
	a.People.Now, a.Clients.Now, a.Jobs.Now, a.Reviews.Now, a.Expiry.Now = now, now, now, now, now
}
