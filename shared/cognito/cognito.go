// Package cognito is the Identity adapter for an Amazon Cognito user pool: the domain's user
// lifecycle (invite, disable, enable, delete, email change) as Cognito admin calls. The login's username is
// the user id, so a login never has to be looked up by email.
package cognito

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/tilgang/tilgang/shared/access"
)

// TenantAttribute is the immutable custom attribute that puts the tenant id in the ID token.
const TenantAttribute = "custom:tenant_id"

// API is the part of the Cognito client the adapter calls.
type API interface {
	AdminCreateUser(context.Context, *cip.AdminCreateUserInput, ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
	AdminDisableUser(context.Context, *cip.AdminDisableUserInput, ...func(*cip.Options)) (*cip.AdminDisableUserOutput, error)
	AdminUserGlobalSignOut(context.Context, *cip.AdminUserGlobalSignOutInput, ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
	AdminEnableUser(context.Context, *cip.AdminEnableUserInput, ...func(*cip.Options)) (*cip.AdminEnableUserOutput, error)
	AdminDeleteUser(context.Context, *cip.AdminDeleteUserInput, ...func(*cip.Options)) (*cip.AdminDeleteUserOutput, error)
	AdminUpdateUserAttributes(context.Context, *cip.AdminUpdateUserAttributesInput, ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error)
}

// Identity implements access.Identity on one user pool.
type Identity struct {
	Client     API
	UserPoolID string
}

var _ access.Identity = (*Identity)(nil)

// New returns the adapter for a user pool.
func New(client API, userPoolID string) *Identity {
	return &Identity{Client: client, UserPoolID: userPoolID}
}

// Invite creates the login and lets Cognito email the temporary password. A login that already
// exists counts as invited, so a retried create does not fail or send a second email.
//
// The email is marked verified because an administrator entered it and the invitation goes to
// it. ForceAliasCreation moves the email alias from any older login: the table's email claim
// already guarantees that no other live user has this email, so an older holder is a leftover
// (a deleted user whose login deletion failed, or one whose email has since changed).
func (c *Identity) Invite(ctx context.Context, u access.User) error {
	_, err := c.Client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(c.UserPoolID),
		Username:   aws.String(u.ID),
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(u.Email)},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
			{Name: aws.String(TenantAttribute), Value: aws.String(u.TenantID)},
		},
		DesiredDeliveryMediums: []types.DeliveryMediumType{types.DeliveryMediumTypeEmail},
		ForceAliasCreation:     true,
	})
	if errorCode(err) == "UsernameExistsException" {
		return nil
	}
	return translate("AdminCreateUser", err)
}

// Disable stops sign-in and revokes the refresh tokens. Tokens already issued stay valid until
// they expire, which is why Authenticate checks the user's status on every request. A missing
// login cannot sign in either, so it counts as disabled.
func (c *Identity) Disable(ctx context.Context, u access.User) error {
	_, err := c.Client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(c.UserPoolID), Username: aws.String(u.ID)})
	if err = ignoreNotFound(err); err != nil {
		return translate("AdminDisableUser", err)
	}
	_, err = c.Client.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(c.UserPoolID), Username: aws.String(u.ID)})
	return translate("AdminUserGlobalSignOut", ignoreNotFound(err))
}

// Enable lets the user sign in again. A missing login is an error: the user would be active
// without a way to sign in.
func (c *Identity) Enable(ctx context.Context, u access.User) error {
	_, err := c.Client.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(c.UserPoolID), Username: aws.String(u.ID)})
	return translate("AdminEnableUser", err)
}

// Delete removes the login; a login that is already gone is not an error, so a retried
// deletion or anonymisation succeeds.
func (c *Identity) Delete(ctx context.Context, u access.User) error {
	_, err := c.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(c.UserPoolID), Username: aws.String(u.ID)})
	return translate("AdminDeleteUser", ignoreNotFound(err))
}

// UpdateEmail gives the login the user's new email, marked verified as at the invitation: an
// administrator or the user entered it, and the table's email claim already makes it unique.
// Without email_verified Cognito would mail a code and, in a pool with email sign-in, keep
// signing the user in with the old address until it is confirmed. A missing login has no email
// to change, which is not an error.
func (c *Identity) UpdateEmail(ctx context.Context, u access.User) error {
	_, err := c.Client.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
		UserPoolId: aws.String(c.UserPoolID),
		Username:   aws.String(u.ID),
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(u.Email)},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
		},
	})
	return translate("AdminUpdateUserAttributes", ignoreNotFound(err))
}

func ignoreNotFound(err error) error {
	if errorCode(err) == "UserNotFoundException" {
		return nil
	}
	return err
}

// errorCode is Cognito's error code, or "". Codes are compared rather than types because the
// SDK models only some errors per operation (AliasExistsException is not modelled for
// AdminCreateUser and arrives as a generic API error).
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// Error is a failed Cognito call. It keeps the operation and Cognito's error code only: the
// messages can echo what was sent (an email address), and these errors end up in logs.
type Error struct {
	Op   string
	Code string
}

func (e *Error) Error() string { return fmt.Sprintf("cognito %s: %s", e.Op, e.Code) }

// translate turns Cognito's errors into domain errors where the caller can act on them (an
// email Cognito refuses), and into an *Error without personal data otherwise.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	switch {
	case !errors.As(err, &apiErr):
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &Error{Op: op, Code: "timeout"}
		}
		return &Error{Op: op, Code: "transport"}
	case apiErr.ErrorCode() == "AliasExistsException":
		return &access.Error{Code: access.CodeConflict, Field: "email", Message: "is already used by another login"}
	case apiErr.ErrorCode() == "InvalidParameterException" && strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "email"):
		return access.Invalid("email", "is not accepted by the sign-in service")
	}
	return &Error{Op: op, Code: apiErr.ErrorCode()}
}
