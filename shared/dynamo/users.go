package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tilgang/tilgang/shared/access"
)

var errEmailTaken = access.Conflict("this email is already in use by another user")

func avKey(m map[string]string) map[string]types.AttributeValue { return key(m[AttrPK], m[AttrSK]) }

// GetUser reads a user; a user of another tenant is simply not in this tenant's partition.
func (s *Store) GetUser(ctx context.Context, tenantID, userID string) (access.User, error) {
	var it userItem
	if err := s.getItem(ctx, key(tenantPK(tenantID), pfxUser+userID), "user", &it); err != nil {
		return access.User{}, err
	}
	return it.domain(), nil
}

// UserByEmail follows the email claim to its user.
func (s *Store) UserByEmail(ctx context.Context, email string) (access.User, error) {
	var e emailItem
	if err := s.getItem(ctx, avKey(emailKey(email)), "user", &e); err != nil {
		return access.User{}, err
	}
	return s.GetUser(ctx, e.TenantID, e.UserID)
}

// putNewUser adds a new user, its email claim and its calendars to t.
func (s *Store) putNewUser(t *txn, u access.User) error {
	if err := t.put(s.table, userToItem(u), notExists(), access.Conflict("user %s exists", u.ID)); err != nil {
		return err
	}
	if err := s.indexMembers(t, nil, &u); err != nil {
		return err
	}
	if err := t.put(s.table, emailToItem(u), notExists(), errEmailTaken); err != nil {
		return err
	}
	return s.claimCalendars(t, u, u.CalendarIDs)
}

// claimCalendars makes u the owner of calendars that are new or have no owner (one whose owner
// was deleted): naming a colleague's calendar as one's own fails the transaction instead of
// taking it over.
func (s *Store) claimCalendars(t *txn, u access.User, ids []string) error {
	free := expression.AttributeNotExists(expression.Name(AttrPK)).
		Or(expression.AttributeNotExists(expression.Name("ownerId"))).
		Or(expression.Name("ownerId").Equal(expression.Value(u.ID)))
	for _, cal := range ids {
		// An update, not a put: the calendar's name stays; its version moves.
		if err := t.update(s.table, key(tenantPK(u.TenantID), pfxCalendar+cal), calendarOwnerUpdate(u.TenantID, cal, u.ID, u.Practice()), &free,
			access.Conflict("calendar %s belongs to another user", cal)); err != nil {
			return err
		}
	}
	return nil
}

// releaseCalendars keeps calendars a user no longer owns, without owner.
func (s *Store) releaseCalendars(t *txn, u access.User, ids []string) error {
	mine := expression.AttributeNotExists(expression.Name(AttrPK)).Or(expression.Name("ownerId").Equal(expression.Value(u.ID)))
	for _, cal := range ids {
		if err := t.update(s.table, key(tenantPK(u.TenantID), pfxCalendar+cal), calendarOwnerUpdate(u.TenantID, cal, "", ""), &mine,
			access.ErrVersionConflict); err != nil {
			return err
		}
	}
	return nil
}

// CreateUser writes the user, its email claim and calendars in one transaction, so two
// concurrent creates of one email leave exactly one user.
func (s *Store) CreateUser(ctx context.Context, u access.User, meta access.Meta) error {
	t := &txn{}
	if err := s.putNewUser(t, u); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// putUserUpdate adds the conditional replacement of prev by next, moving the email claim.
func (s *Store) putUserUpdate(t *txn, prev, next access.User) error {
	if err := t.put(s.table, userToItem(next), versionIs(prev.Version), access.ErrVersionConflict); err != nil {
		return err
	}
	if err := s.indexMembers(t, &prev, &next); err != nil {
		return err
	}
	added, removed := diff(prev.CalendarIDs, next.CalendarIDs), diff(next.CalendarIDs, prev.CalendarIDs)
	if err := s.claimCalendars(t, next, added); err != nil {
		return err
	}
	if err := s.releaseCalendars(t, next, removed); err != nil {
		return err
	}
	if next.Status == access.StatusAnonymised && prev.Status != access.StatusAnonymised {
		// Nothing personal stays after anonymisation, and a calendar's name may be its owner's
		// ("Astrid's calendar"): the calendars the user owns lose theirs in the same write.
		exists := expression.AttributeExists(expression.Name(AttrPK))
		for _, cal := range next.CalendarIDs {
			upd := expression.Remove(expression.Name("name")).Add(expression.Name("version"), expression.Value(1))
			if err := t.update(s.table, key(tenantPK(next.TenantID), pfxCalendar+cal), upd, &exists, access.ErrVersionConflict); err != nil {
				return err
			}
		}
	}
	if access.EmailKey(prev.Email) == access.EmailKey(next.Email) {
		return nil
	}
	owned := expression.Name("userId").Equal(expression.Value(prev.ID))
	if prev.Email != "" {
		if err := t.delete(s.table, avKey(emailKey(prev.Email)), &owned, access.ErrVersionConflict); err != nil {
			return err
		}
	}
	if next.Email != "" {
		if err := t.put(s.table, emailToItem(next), notExists(), errEmailTaken); err != nil {
			return err
		}
	}
	return nil
}

// UpdateUser replaces a user if its version is still prev.Version.
func (s *Store) UpdateUser(ctx context.Context, prev, next access.User, meta access.Meta) error {
	t := &txn{}
	if err := s.putUserUpdate(t, prev, next); err != nil {
		return err
	}
	if err := t.meta(s.table, meta); err != nil {
		return err
	}
	return s.commit(ctx, t)
}

// DeleteUser removes the user, its email claim and its client assignments; its calendars stay,
// without owner.
func (s *Store) DeleteUser(ctx context.Context, u access.User, meta access.Meta) error {
	return s.DeleteUserWithLinks(ctx, u, nil, meta)
}

// ListUsers queries the tenant's user items; the filters run server-side on that partition only.
func (s *Store) ListUsers(ctx context.Context, tenantID string, f access.UserFilter, p access.Page) ([]access.User, string, error) {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []access.Status{access.StatusActive, access.StatusDeactivated}
	}
	var cond expression.ConditionBuilder
	for i, st := range statuses {
		c := expression.Name("status").Equal(expression.Value(string(st)))
		if i == 0 {
			cond = c
		} else {
			cond = cond.Or(c)
		}
	}
	if f.GroupID != "" {
		cond = cond.And(expression.Name("groupIds").Contains(f.GroupID))
	}
	if f.Text != "" {
		cond = cond.And(expression.Name("search").Contains(lower(f.Text)))
	}
	items, cursor, err := s.page(ctx, query{partition: map[string]string{AttrPK: tenantPK(tenantID)}, skPrefix: pfxUser, filter: &cond}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	users, err := unmarshalAll(items, userItem.domain)
	return users, cursor, err
}

func unmarshalUser(av map[string]types.AttributeValue) (access.User, error) {
	var it userItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return access.User{}, fmt.Errorf("unmarshal user: %w", err)
	}
	return it.domain(), nil
}

// diff lists what b has and a has not.
func diff(a, b []string) []string {
	var out []string
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}
