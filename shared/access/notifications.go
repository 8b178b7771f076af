package access

import (
	"context"
	"time"
)

// NotificationJobCompleted is the type of the notification an access job's requester gets.
const NotificationJobCompleted = "access_job_completed"

// DefaultNotificationRetention applies when the service is given none.
const DefaultNotificationRetention = 30 * 24 * time.Hour

// Notification tells a user something happened. Its title and summary hold ids and counts
// only, never personal data, so that it needs no anonymisation before it expires.
type Notification struct {
	ID        string
	TenantID  string
	UserID    string
	Type      string
	JobID     string
	Title     string
	Summary   string
	Read      bool
	CreatedAt time.Time
	ReadAt    *time.Time
	// ExpiresAt is when DynamoDB's TTL may delete it; it is hidden from then on.
	ExpiresAt time.Time
}

// NotificationStore keeps notifications.
type NotificationStore interface {
	// ListNotifications pages a user's notifications newest first, leaving out those expired
	// by now (TTL deletes lazily).
	ListNotifications(ctx context.Context, tenantID, userID string, now time.Time, p Page) ([]Notification, string, error)
	// MarkNotificationRead sets read; ErrNotFound if the user has no such notification.
	MarkNotificationRead(ctx context.Context, tenantID, userID, id string, at time.Time) (Notification, error)
}
