package httpapi

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

// Provisioning tokens: the account owner makes one per directory (Entra ID, Okta) for the SCIM
// service provider under /scim/v2. The secret is in the create response only.
func (a *API) scimTokenRoutes(m map[string]routeFunc) {
	m["GET /v1/scim-tokens"] = a.listSCIMTokens
	m["POST /v1/scim-tokens"] = a.createSCIMToken
	m["DELETE /v1/scim-tokens/{tokenId}"] = a.revokeSCIMToken
}

type scimTokenJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	// Secret is set only in the response that created the token.
	Secret string `json:"secret,omitempty"`
}

func toSCIMTokenJSON(t access.SCIMToken) scimTokenJSON {
	return scimTokenJSON{ID: t.ID, Name: t.Name, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
}

func (a *API) createSCIMToken(ctx context.Context, r *request) (response, error) {
	var b struct {
		Name *string `json:"name"`
	}
	if err := r.decode(&b); err != nil {
		return response{}, err
	}
	name := ""
	if b.Name != nil {
		name = *b.Name
	}
	tok, secret, err := a.Provisioning.CreateSCIMToken(ctx, r.caller, name)
	if err != nil {
		return response{}, err
	}
	out := toSCIMTokenJSON(tok)
	out.Secret = secret
	return response{status: 201, body: out}, nil
}

func (a *API) listSCIMTokens(ctx context.Context, r *request) (response, error) {
	if err := r.knownQuery(); err != nil {
		return response{}, err
	}
	toks, err := a.Provisioning.ListSCIMTokens(ctx, r.caller)
	if err != nil {
		return response{}, err
	}
	return ok(listOf(toks, "", toSCIMTokenJSON)), nil
}

func (a *API) revokeSCIMToken(ctx context.Context, r *request) (response, error) {
	if err := a.Provisioning.RevokeSCIMToken(ctx, r.caller, r.path("tokenId")); err != nil {
		return response{}, err
	}
	return noContent(), nil
}
