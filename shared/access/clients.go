package access

import "context"

// authorizeClient decides an action on one client's records (client-access issue).
func (s *Service) authorizeClient(ctx context.Context, c *Caller, r Rights, req AuthorizeRequest) (Decision, error) {
	return Decision{}, Invalid("clientId", "client records are not available yet")
}
