package access

import (
	"context"
)

// Program is a program of the bureau package (seed 004: "program i Byråpaketet"), which a
// consultant is assigned per client.
type Program struct {
	ID   string
	Name string
}

// DefaultPrograms is the bureau package of a tenant that has not set up its own catalogue.
var DefaultPrograms = []Program{
	{ID: "bookkeeping", Name: "Bookkeeping"},
	{ID: "invoicing", Name: "Invoicing"},
	{ID: "payroll", Name: "Payroll"},
	{ID: "orders", Name: "Orders"},
	{ID: "fixed_assets", Name: "Fixed assets"},
	{ID: "annual_accounts", Name: "Annual accounts"},
	{ID: "tax_returns", Name: "Tax returns"},
}

// ProgramStore keeps a tenant's own program catalogue.
type ProgramStore interface {
	// GetPrograms returns the tenant's catalogue; ErrNotFound when it has none of its own.
	GetPrograms(ctx context.Context, tenantID string) ([]Program, error)
}
