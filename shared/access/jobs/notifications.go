package jobs

import (
	"context"
	"time"

	"github.com/tilgang/tilgang/shared/access"
)

func (s *Service) notificationRetention() time.Duration {
	if s.NotificationRetention > 0 {
		return s.NotificationRetention
	}
	return access.DefaultNotificationRetention
}

// Notifications pages the caller's own notifications.
func (s *Service) Notifications(ctx context.Context, c *access.Caller, p access.Page) ([]access.Notification, string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListNotifications(ctx, c.TenantID(), c.User.ID, s.Now(), p)
}

// MarkNotificationRead marks one of the caller's notifications read; marking it again changes
// nothing. Another user's notification is not found.
func (s *Service) MarkNotificationRead(ctx context.Context, c *access.Caller, id string) (access.Notification, error) {
	if access.ValidID("notificationId", id) != nil {
		return access.Notification{}, access.NotFound("notification")
	}
	n, err := s.Store.MarkNotificationRead(ctx, c.TenantID(), c.User.ID, id, s.Now())
	if err != nil {
		return access.Notification{}, err
	}
	if !n.ExpiresAt.IsZero() && !n.ExpiresAt.After(s.Now()) {
		return access.Notification{}, access.NotFound("notification")
	}
	return n, nil
}
