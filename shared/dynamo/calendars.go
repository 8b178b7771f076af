package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
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

// calendarOwnerUpdate sets (or, with ownerID "", removes) a calendar's owner, creating the item
// if it is new and keeping its name; every change moves its version.
func calendarOwnerUpdate(tenantID, calendarID, ownerID, practice string) expression.UpdateBuilder {
	upd := expression.Set(expression.Name("type"), expression.Value("calendar")).
		Set(expression.Name("id"), expression.Value(calendarID)).
		Set(expression.Name("tenantId"), expression.Value(tenantID)).
		Add(expression.Name("version"), expression.Value(1))
	if ownerID == "" {
		// A calendar without owner stays in the practice it was in.
		return upd.Remove(expression.Name("ownerId"))
	}
	upd = upd.Set(expression.Name("ownerId"), expression.Value(ownerID))
	if practice == "" {
		return upd.Remove(expression.Name("practice"))
	}
	return upd.Set(expression.Name("practice"), expression.Value(practice))
}

func (it calendarItem) domain() access.Calendar {
	return access.Calendar{ID: it.ID, TenantID: it.TenantID, OwnerID: it.OwnerID, Practice: it.Practice, Name: it.Name, Version: max(it.Version, 1)}
}

// ListCalendars pages the tenant's calendar items.
func (s *Store) ListCalendars(ctx context.Context, tenantID string, p access.Page) ([]access.Calendar, string, error) {
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxCalendar}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list calendars: %w", err)
	}
	cals, err := unmarshalAll(items, calendarItem.domain)
	return cals, cursor, err
}

// GetCalendar reads one calendar item.
func (s *Store) GetCalendar(ctx context.Context, tenantID, calendarID string) (access.Calendar, error) {
	var it calendarItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), pfxCalendar+calendarID), "calendar", &it); err != nil {
		return access.Calendar{}, err
	}
	return it.domain(), nil
}

// UpdateCalendar writes the calendar (name, owner) conditional on its version, and the users
// whose own calendars change conditional on theirs, in one transaction.
func (s *Store) UpdateCalendar(ctx context.Context, prev, next access.Calendar, users []access.UserChange, meta access.Meta) error {
	t := &txn{}
	cond := expression.Name("version").Equal(expression.Value(prev.Version))
	if prev.Version <= 1 {
		cond = cond.Or(expression.AttributeNotExists(expression.Name("version")))
	}
	cond = expression.AttributeExists(expression.Name(AttrPK)).And(cond)
	upd := expression.Set(expression.Name("version"), expression.Value(next.Version))
	if next.Name == "" {
		upd = upd.Remove(expression.Name("name"))
	} else {
		upd = upd.Set(expression.Name("name"), expression.Value(next.Name))
	}
	if next.OwnerID == "" {
		upd = upd.Remove(expression.Name("ownerId"))
	} else {
		upd = upd.Set(expression.Name("ownerId"), expression.Value(next.OwnerID))
	}
	if next.Practice == "" {
		upd = upd.Remove(expression.Name("practice"))
	} else {
		upd = upd.Set(expression.Name("practice"), expression.Value(next.Practice))
	}
	if err := t.update(s.table, key(tenantPK(next.TenantID), pfxCalendar+next.ID), upd, &cond, access.ErrVersionConflict); err != nil {
		return err
	}
	for _, u := range users {
		if err := t.put(s.table, userToItem(u.Next), versionIs(u.Prev.Version), access.ErrVersionConflict); err != nil {
			return err
		}
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}
