package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tilgang/tilgang/shared/access"
	"github.com/tilgang/tilgang/shared/app"
	"github.com/tilgang/tilgang/shared/httpapi"
)

// The records the samples in events/ name besides the caller (whose tenant and user come from
// the claims of events/api-request.json). Seed creates them with these ids.
const (
	SampleEmployeeID = "u_01jdexample0employee000000"
	SampleGroupID    = "g_01jdexample0group000000000"
	SampleClientID   = "c_01jdexample0client00000000"
)

// EventsDir is the events/ folder of the repository at root.
func EventsDir(root string) string { return filepath.Join(root, "events") }

// SampleCaller returns the tenant and user named by the claims of events/api-request.json,
// the template every API sample is made from.
func SampleCaller(root string) (tenantID, userID string, err error) {
	b, err := os.ReadFile(filepath.Join(EventsDir(root), "api-request.json"))
	if err != nil {
		return "", "", err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		return "", "", fmt.Errorf("events/api-request.json: %w", err)
	}
	if ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT == nil {
		return "", "", errors.New("events/api-request.json has no JWT authorizer claims")
	}
	c := ev.RequestContext.Authorizer.JWT.Claims
	return c[httpapi.ClaimTenant], c[httpapi.ClaimUsername], nil
}

// Seed creates what the samples name, so that they are answered with a 2xx or a meaningful
// 4xx instead of a 401: the caller's tenant with the Employees app active, the caller as its
// owner, an employee, a group and a client, each with the id the samples use. A tenant that
// exists already is left alone, so Seed can run before every invocation.
func Seed(ctx context.Context, a *app.App, root string) error {
	tenantID, ownerID, err := SampleCaller(root)
	if err != nil {
		return err
	}
	if _, err := a.Store.GetTenant(ctx, tenantID); err == nil {
		return nil
	} else if !errors.Is(err, access.ErrNotFound) {
		return err
	}
	// A copy of the service whose new ids are the samples' ones.
	s, cs := *a.People, *a.Clients
	ids := map[string]string{"t": tenantID, "u": ownerID, "g": SampleGroupID, "c": SampleClientID}
	s.NewID = func(prefix string) string {
		if id, ok := ids[prefix]; ok {
			delete(ids, prefix)
			return id
		}
		return a.People.NewID(prefix)
	}
	cs.NewID = s.NewID
	if _, _, err := s.CreateTenant(ctx, access.NewTenant{Name: "Example Clinic", OwnerName: "Example Owner",
		OwnerEmail: "sample-owner@example.com"}); err != nil {
		return fmt.Errorf("seed tenant: %w", err)
	}
	caller, err := s.Authenticate(ctx, tenantID, ownerID, "seed")
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, _, err := s.ActivateEmployees(ctx, caller, []string{}); err != nil {
		return fmt.Errorf("seed Employees app: %w", err)
	}
	ids["u"] = SampleEmployeeID
	if _, err := s.CreateUser(ctx, caller, access.NewUser{Name: "Example Employee", Email: "sample-employee@example.com",
		Profession: access.ProfessionPractitioner}, nil); err != nil {
		return fmt.Errorf("seed employee: %w", err)
	}
	if _, err := s.CreateGroup(ctx, caller, access.NewGroup{Name: "Example group",
		Permissions: access.Permissions{access.AreaClients: {Level: access.LevelView}}}, nil); err != nil {
		return fmt.Errorf("seed group: %w", err)
	}
	if _, err := cs.CreateClient(ctx, caller, access.NewClient{Name: "Example Client"}, nil); err != nil {
		return fmt.Errorf("seed client: %w", err)
	}
	return nil
}
