// Package config loads the typed configuration every function and the dev server share.
package config

import (
	"fmt"
	"os"
	"strconv"
)

// Config is what a function needs to reach its table, queues and identity provider.
type Config struct {
	Region    string
	TableName string
	// JobsQueueURL is the SQS queue that carries access-job messages; JobsDLQARN is its
	// dead-letter queue, which the job worker consumes too.
	JobsQueueURL string
	JobsDLQARN   string
	// JobsArchiveQueueURL is where the job worker parks poison messages (unreadable, unknown);
	// nothing consumes it and an alarm watches it.
	JobsArchiveQueueURL string
	// EventsTarget names where domain events go: an EventBridge bus name in AWS, or a queue URL locally.
	EventBusName   string
	EventsQueueURL string
	// UserPoolID selects the Cognito adapter; empty means the local identity adapter.
	UserPoolID string
	// DynamoEndpoint and SQSEndpoint point the SDK at local servers; empty in AWS.
	DynamoEndpoint string
	SQSEndpoint    string
	// XRayDaemonAddress is where Lambda's active tracing receives segments (UDP); empty means
	// no tracing (locally, or with tracing off).
	XRayDaemonAddress string
	// NotificationRetentionDays is how long notifications live before DynamoDB's TTL removes them.
	NotificationRetentionDays int
	// ExpiryNoticeDays is how many days before a grant expires its granter is notified.
	ExpiryNoticeDays int
}

// FromEnv reads the configuration from the environment and fails on what is missing.
func FromEnv() (Config, error) {
	c := Config{
		Region:              getenv("AWS_REGION", "eu-north-1"),
		TableName:           os.Getenv("TABLE_NAME"),
		JobsQueueURL:        os.Getenv("JOBS_QUEUE_URL"),
		JobsDLQARN:          os.Getenv("JOBS_DLQ_ARN"),
		JobsArchiveQueueURL: os.Getenv("JOBS_ARCHIVE_QUEUE_URL"),
		EventBusName:        os.Getenv("EVENT_BUS_NAME"),
		EventsQueueURL:      os.Getenv("EVENTS_QUEUE_URL"),
		UserPoolID:          os.Getenv("USER_POOL_ID"),
		DynamoEndpoint:      os.Getenv("DYNAMODB_ENDPOINT"),
		SQSEndpoint:         os.Getenv("SQS_ENDPOINT"),
		// Set by Lambda when the function has active tracing.
		XRayDaemonAddress: os.Getenv("AWS_XRAY_DAEMON_ADDRESS"),
	}
	days, err := strconv.Atoi(getenv("NOTIFICATION_RETENTION_DAYS", "30"))
	if err != nil || days < 1 {
		return Config{}, fmt.Errorf("config: NOTIFICATION_RETENTION_DAYS must be a positive number of days")
	}
	c.NotificationRetentionDays = days
	notice, err := strconv.Atoi(getenv("EXPIRY_NOTICE_DAYS", "3"))
	if err != nil || notice < 0 || notice > 365 {
		return Config{}, fmt.Errorf("config: EXPIRY_NOTICE_DAYS must be a number of days from 0 to 365")
	}
	c.ExpiryNoticeDays = notice
	if c.TableName == "" {
		return Config{}, fmt.Errorf("config: TABLE_NAME is required")
	}
	return c, nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
