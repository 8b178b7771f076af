package people

import (
	"context"
	"fmt"

	"github.com/tilgang/tilgang/shared/access"
)

// ActivateTenants activates the Tenants app (hirers) and creates the predefined Hirer group when
// asked (templates: ["hirer"] or none).
func (s *Service) ActivateTenants(ctx context.Context, c *access.Caller, templates []string) (access.Tenant, []access.Group, error) {
	if err := c.Require(access.Request{Op: access.OpActivateApps}); err != nil {
		return access.Tenant{}, nil, err
	}
	if len(templates) > 1 {
		return access.Tenant{}, nil, access.Invalid("templates", "has more entries than there are templates")
	}
	for i, id := range templates {
		if id != access.HirerTemplate.ID {
			return access.Tenant{}, nil, access.Invalid(fmt.Sprintf("templates[%d]", i), "must be hirer")
		}
	}
	return s.updateTenant(ctx, c, nil, "app.tenants.activate", func(t *access.Tenant) ([]access.Group, error) {
		if t.Settings.AppActive(access.AppTenants) {
			return nil, access.Conflict("the Tenants app is already active")
		}
		t.Settings.ActiveApps = append(t.Settings.ActiveApps, access.AppTenants)
		if len(templates) == 0 {
			return nil, nil
		}
		perms, err := access.HirerTemplate.Permissions.Normalize("templates")
		if err != nil {
			return nil, err
		}
		return []access.Group{{ID: s.NewID("g"), TenantID: t.ID, Name: access.HirerTemplate.Name, Description: access.HirerTemplate.Description,
			Permissions: perms, Template: access.HirerTemplate.ID, Version: 1, CreatedAt: s.Now(), UpdatedAt: s.Now()}}, nil
	})
}
