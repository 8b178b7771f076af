package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// MaxJobBodyBytes bounds the body of POST /v1/access-jobs, above MaxBodyBytes: a job may name
// 5,000 clients and 500 consultants, whose ids (up to 64 characters each) take up to ~360 KB.
const MaxJobBodyBytes = 512 << 10

func (a *API) jobRoutes(m map[string]routeFunc) {
	m["POST /v1/access-jobs"] = a.createJob
	m["GET /v1/access-jobs/{jobId}"] = a.getJob
	m["GET /v1/access-jobs/{jobId}/results"] = a.jobResults
	m["GET /v1/notifications"] = a.listNotifications
	m["POST /v1/notifications/{notificationId}/read"] = a.readNotification
}

func (a *API) programRoutes(m map[string]routeFunc) {
	m["GET /v1/programs"] = a.listPrograms
}

func (a *API) clientAdminRoutes(m map[string]routeFunc) {
	m["GET /v1/clients/{clientId}/admins"] = a.listClientAdmins
	m["PUT /v1/clients/{clientId}/admins/{userId}"] = a.putClientAdmin
	m["DELETE /v1/clients/{clientId}/admins/{userId}"] = a.deleteClientAdmin
}

type jobBody struct {
	Action        access.JobAction `json:"action"`
	ConsultantIDs []string         `json:"consultantIds"`
	ClientIDs     []string         `json:"clientIds"`
	Programs      []string         `json:"programs"`
	DryRun        bool             `json:"dryRun"`
	ExpiresAt     *string          `json:"expiresAt"`
}

type jobJSON struct {
	ID             string                 `json:"id"`
	Action         access.JobAction       `json:"action"`
	Status         access.JobStatus       `json:"status"`
	Total          int                    `json:"total"`
	Done           int                    `json:"done"`
	Progress       float64                `json:"progress"`
	Counts         map[access.Outcome]int `json:"counts"`
	Programs       []string               `json:"programs"`
	Consultants    int                    `json:"consultants"`
	Clients        int                    `json:"clients"`
	RequesterID    string                 `json:"requesterId"`
	NotificationID string                 `json:"notificationId,omitempty"`
	CreatedAt      time.Time              `json:"createdAt"`
	CompletedAt    *time.Time             `json:"completedAt,omitempty"`
	ExpiresAt      *time.Time             `json:"expiresAt,omitempty"`
}

func countsJSON(m map[access.Outcome]int) map[access.Outcome]int {
	out := make(map[access.Outcome]int, len(access.Outcomes))
	for _, o := range access.Outcomes {
		out[o] = m[o]
	}
	return out
}

func toJobJSON(j access.Job) jobJSON {
	// Whole tenths of a percent, so that 99.96% never shows as 100.
	progress := float64(int(j.Progress()*10)) / 10
	return jobJSON{ID: j.ID, Action: j.Action, Status: j.Status, Total: j.Total, Done: j.Done, Progress: progress,
		Counts: countsJSON(j.Counts), Programs: nonNil(j.Programs), Consultants: j.Consultants, Clients: j.Clients,
		RequesterID: j.RequesterID, NotificationID: j.NotificationID, CreatedAt: j.CreatedAt, CompletedAt: j.CompletedAt,
		ExpiresAt: j.ExpiresAt}
}

type jobResultJSON struct {
	ConsultantID string         `json:"consultantId"`
	ClientID     string         `json:"clientId"`
	Program      string         `json:"program,omitempty"`
	Outcome      access.Outcome `json:"outcome"`
	Reason       string         `json:"reason"`
}

func toJobResultJSON(a access.JobAction) func(access.JobResult) jobResultJSON {
	return func(r access.JobResult) jobResultJSON {
		return jobResultJSON{ConsultantID: r.ConsultantID, ClientID: r.ClientID, Program: r.Program, Outcome: r.Outcome, Reason: r.Outcome.Reason(a)}
	}
}

type dryRunJSON struct {
	DryRun  bool                   `json:"dryRun"`
	Total   int                    `json:"total"`
	Counts  map[access.Outcome]int `json:"counts"`
	Results []jobResultJSON        `json:"results"`
}

func (a *API) createJob(ctx context.Context, r *request) (response, error) {
	r.maxBody = MaxJobBodyBytes
	var b jobBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	idem, err := r.idempotency()
	if err != nil {
		return response{}, err
	}
	exp, err := parseExpiry("expiresAt", b.ExpiresAt)
	if err != nil {
		return response{}, err
	}
	j, dry, err := a.Jobs.CreateJob(ctx, r.caller, access.NewJob{Action: b.Action, ConsultantIDs: b.ConsultantIDs,
		ClientIDs: b.ClientIDs, Programs: b.Programs, DryRun: b.DryRun, ExpiresAt: exp}, idem)
	if err != nil {
		return response{}, err
	}
	if dry != nil {
		out := dryRunJSON{DryRun: true, Total: dry.Total, Counts: countsJSON(dry.Counts), Results: make([]jobResultJSON, 0, len(dry.Results))}
		conv := toJobResultJSON(b.Action)
		for _, res := range dry.Results {
			out.Results = append(out.Results, conv(res))
		}
		return ok(out), nil
	}
	return response{status: http.StatusAccepted, body: toJobJSON(j.View()),
		headers: map[string]string{"Location": "/v1/access-jobs/" + j.ID}}, nil
}

func (a *API) getJob(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	j, err := a.Jobs.GetJob(ctx, r.caller, r.path("jobId"))
	if err != nil {
		return response{}, err
	}
	return ok(toJobJSON(j)), nil
}

func (a *API) jobResults(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("outcome", "limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	outcome := access.Outcome(r.ev.QueryStringParameters["outcome"])
	if _, given := r.ev.QueryStringParameters["outcome"]; given && outcome == "" {
		return response{}, access.Invalid("outcome", "must be one of %v", access.Outcomes)
	}
	j, results, next, err := a.Jobs.JobResults(ctx, r.caller, r.path("jobId"), outcome, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(results, next, toJobResultJSON(j.Action))), nil
}

type notificationJSON struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	JobID     string     `json:"jobId,omitempty"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary,omitempty"`
	Read      bool       `json:"read"`
	ReadAt    *time.Time `json:"readAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
}

func toNotificationJSON(n access.Notification) notificationJSON {
	return notificationJSON{ID: n.ID, Type: n.Type, JobID: n.JobID, Title: n.Title, Summary: n.Summary, Read: n.Read,
		ReadAt: n.ReadAt, CreatedAt: n.CreatedAt, ExpiresAt: n.ExpiresAt}
}

func (a *API) listNotifications(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	ns, next, err := a.Jobs.Notifications(ctx, r.caller, p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(ns, next, toNotificationJSON)), nil
}

func (a *API) readNotification(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	n, err := a.Jobs.MarkNotificationRead(ctx, r.caller, r.path("notificationId"))
	if err != nil {
		return response{}, err
	}
	return ok(toNotificationJSON(n)), nil
}

type programJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (a *API) listPrograms(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	ps, err := a.Clients.Programs(ctx, r.caller)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(ps, "", func(p access.Program) programJSON { return programJSON{ID: p.ID, Name: p.Name} })), nil
}

type clientAdminBody struct {
	System    bool     `json:"system"`
	Programs  []string `json:"programs"`
	ExpiresAt *string  `json:"expiresAt"`
}

type clientAdminJSON struct {
	ClientID  string     `json:"clientId"`
	UserID    string     `json:"userId"`
	System    bool       `json:"system"`
	Programs  []string   `json:"programs"`
	Version   int        `json:"version"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type clientAdminEntryJSON struct {
	UserID    string     `json:"userId"`
	System    bool       `json:"system"`
	Programs  []string   `json:"programs"`
	Source    string     `json:"source"` // "owner" (implicit) or "appointed"
	UpdatedAt time.Time  `json:"updatedAt,omitzero"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

func (a *API) listClientAdmins(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery("limit", "cursor"); err != nil {
		return response{}, err
	}
	p, err := r.page()
	if err != nil {
		return response{}, err
	}
	admins, next, err := a.Clients.ClientAdmins(ctx, r.caller, r.path("clientId"), p)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(admins, next, func(ad access.ClientAdmin) clientAdminEntryJSON {
		src := "appointed"
		if ad.Implicit {
			src = "owner"
		}
		return clientAdminEntryJSON{UserID: ad.UserID, System: ad.System, Programs: nonNil(ad.Programs), Source: src, UpdatedAt: ad.UpdatedAt,
			ExpiresAt: ad.ExpiresAt}
	})), nil
}

func (a *API) putClientAdmin(ctx context.Context, r *request) (response, error) {
	var b clientAdminBody
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	exp, err := parseExpiry("expiresAt", b.ExpiresAt)
	if err != nil {
		return response{}, err
	}
	ad, err := a.Clients.SetClientAdmin(ctx, r.caller, r.path("clientId"), r.path("userId"), b.System, b.Programs, exp)
	if err != nil {
		return response{}, err
	}
	return okV(clientAdminJSON{ClientID: ad.ClientID, UserID: ad.UserID, System: ad.System, Programs: nonNil(ad.Programs), Version: ad.Version,
		ExpiresAt: ad.ExpiresAt}, ad.Version), nil
}

func (a *API) deleteClientAdmin(ctx context.Context, r *request) (response, error) {
	if err := a.Clients.RemoveClientAdmin(ctx, r.caller, r.path("clientId"), r.path("userId")); err != nil {
		return response{}, err
	}
	return noContent(), nil
}
