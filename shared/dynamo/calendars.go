package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ExistingCalendars reads the calendar items of ids in the tenant's partition (one BatchGetItem
// per 100) and returns the ids found.
func (s *Store) ExistingCalendars(ctx context.Context, tenantID string, ids []string) (map[string]bool, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(tenantPK(tenantID), pfxCalendar+id))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get calendars: %w", err)
	}
	out := make(map[string]bool, len(items))
	for _, av := range items {
		var it calendarItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("unmarshal calendar: %w", err)
		}
		out[it.ID] = true
	}
	return out, nil
}
