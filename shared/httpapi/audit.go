package httpapi

import (
	"context"

	"github.com/tilgang/tilgang/shared/access"
)

func (a *API) auditRoutes(m map[string]routeFunc) {
	m["GET /v1/audit"] = a.listAudit
	m["GET /v1/billing/seats"] = a.getSeats
}

func (a *API) listAudit(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	entries, next, err := a.People.ListAudit(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(entries, next, toAuditJSON)), nil
}

type seatsJSON struct {
	BillableSeats int                       `json:"billableSeats"`
	FreeSeats     int                       `json:"freeSeats"`
	ByProfession  map[access.Profession]int `json:"byProfession"`

	Hirers int        `json:"hirers"`
	Seats  []seatJSON `json:"seats"`
}

func (a *API) getSeats(ctx context.Context, r *request) (response, error) {
	s, err := a.People.BillingSeats(ctx, r.caller)
	if err != nil {
		return response{}, err
	}
	return ok(seatsJSON{BillableSeats: s.Billable, FreeSeats: s.Free, ByProfession: s.ByProfession, Hirers: s.Hirers, Seats: toSeatsJSON(s.Seats)}), nil
}
