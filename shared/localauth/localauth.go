// Package localauth issues and verifies the bearer tokens of the local dev server. They carry
// the claims of a Cognito ID token and are signed (HS256) with a key kept under .local/, so the
// dev server can hand a handler the same claims API Gateway's JWT authorizer would.
package localauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claim names, as Cognito writes them into an ID token.
const (
	ClaimSubject  = "sub"
	ClaimUsername = "cognito:username"
	ClaimTenantID = "custom:tenant_id"
	ClaimTokenUse = "token_use"
	ClaimIssuer   = "iss"
	ClaimIssuedAt = "iat"
	ClaimExpires  = "exp"
)

// Issuer is the iss claim of local tokens.
const Issuer = "tilgang-local"

// TTL is how long a local token is valid.
const TTL = 12 * time.Hour

// ErrInvalidToken is returned by Verify for a token that is malformed, wrongly signed, expired
// or not a local ID token.
var ErrInvalidToken = errors.New("localauth: invalid token")

// TokenIssuer signs and verifies local tokens.
type TokenIssuer struct {
	key []byte
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewIssuer returns an issuer signing with key (at least 32 bytes).
func NewIssuer(key []byte) (*TokenIssuer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("localauth: key has %d bytes, want at least 32", len(key))
	}
	return &TokenIssuer{key: key, Now: time.Now}, nil
}

// Issue returns a signed token for a user of a tenant, valid for TTL.
func (i *TokenIssuer) Issue(tenantID, userID string) (string, error) {
	if tenantID == "" || userID == "" {
		return "", errors.New("localauth: tenant and user id are required")
	}
	now := i.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		ClaimSubject:  userID,
		ClaimUsername: userID,
		ClaimTenantID: tenantID,
		ClaimTokenUse: "id",
		ClaimIssuer:   Issuer,
		ClaimIssuedAt: now.Unix(),
		ClaimExpires:  now.Add(TTL).Unix(),
	})
	s, err := tok.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("localauth: sign: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature, issuer, expiry and token use, and returns its claims as
// strings, the way API Gateway's JWT authorizer passes them to Lambda
// (events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription.Claims): numbers in decimal,
// for example "exp": "1767225600". It returns ErrInvalidToken for any bad token.
func (i *TokenIssuer) Verify(token string) (map[string]string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return i.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(i.Now),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = claimString(v)
	}
	if out[ClaimTokenUse] != "id" || out[ClaimSubject] == "" || out[ClaimTenantID] == "" {
		return nil, fmt.Errorf("%w: not a local ID token", ErrInvalidToken)
	}
	return out, nil
}

func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		// API Gateway renders arrays as "[a b]".
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprint(v)
	}
}

// LoadOrCreateKey reads the signing key at path (hex), or creates a random 32-byte key there
// with mode 0600 (and its folder with 0700) if there is none, so tokens survive restarts.
func LoadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("localauth: key file %s is corrupt; delete it to make a new one", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("localauth: read key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("localauth: key folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("localauth: create key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("localauth: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("localauth: write key: %w", err)
	}
	return key, nil
}
