package access

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Email identity. An email names one person across all tenants, so two spellings that look
// alike must be one account. The rule follows PRECIS (RFC 8265, the UsernameCaseMapped profile
// applied to the whole address) with NFKC as the issue of record asks:
//
//   - the identity (EmailKey) is the address in NFKC, lower-cased, in NFKC again: full-width
//     letters, composed and decomposed accents, ligatures and case all meet in one key, which
//     the email claim (uniqueness across tenants) and every look-up by email use;
//   - refused: invalid UTF-8, control and format characters (zero-width spaces and joiners,
//     bidirectional controls, the byte order mark, soft hyphens: Unicode Cc and Cf), any other
//     space, private-use and unassigned code points, and outside ASCII anything but letters,
//     marks and digits (PRECIS IdentifierClass);
//   - the identity's local part is at most 64 bytes and the whole at most 254 (RFC 5321), and it
//     must be a bare address (no display name, no comments, a dot in the domain);
//   - the user keeps the display form they typed: trimmed and in NFC (the same text, composed),
//     case and width as given. That is what the API returns and the login is reached with.

// Email length limits, in bytes of the identity (RFC 5321, section 4.5.3.1).
const (
	MaxEmailLocal = 64
	MaxEmailBytes = 254
)

// EmailKey is the identity of an email address: NFKC, lower case, NFKC again. It is meant for
// addresses NormalizeEmail accepted; stores key the email claim with it.
func EmailKey(email string) string {
	return norm.NFKC.String(strings.ToLower(norm.NFKC.String(strings.TrimSpace(email))))
}

// normalizeEmail checks an address against the rule above and returns its display form.
func normalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "is required")
	}
	if !utf8.ValidString(s) {
		return "", Invalid(field, "must be valid UTF-8")
	}
	if len(s) > 4*MaxEmailBytes {
		return "", Invalid(field, "must be at most %d characters", MaxEmailBytes)
	}
	for _, r := range s {
		if !emailRune(r) {
			return "", Invalid(field, "must not contain control, format, space or symbol characters (U+%04X)", r)
		}
	}
	display := norm.NFC.String(s)
	key := EmailKey(display)
	for _, r := range key {
		// NFKC can turn an allowed character into others (a ligature into letters, a
		// full-width sign into ASCII): the identity must pass the same test.
		if !emailRune(r) {
			return "", Invalid(field, "must not contain control, format, space or symbol characters (U+%04X)", r)
		}
	}
	at := strings.LastIndex(key, "@")
	switch {
	case len(key) > MaxEmailBytes || len(display) > MaxEmailBytes:
		return "", Invalid(field, "must be at most %d characters", MaxEmailBytes)
	case at > MaxEmailLocal:
		return "", Invalid(field, "must have at most %d characters before the @", MaxEmailLocal)
	}
	a, err := mail.ParseAddress(key)
	if err != nil || a.Address != key || at < 1 || !strings.Contains(key[at+1:], ".") ||
		strings.HasSuffix(key, ".") || strings.Count(key, "@") != 1 {
		return "", Invalid(field, "is not a valid email address")
	}
	return display, nil
}

// emailRune reports whether r may appear in an address: printable ASCII, or a letter, mark or
// digit beyond it (PRECIS IdentifierClass, less the symbols and punctuation it allows only in
// ASCII).
func emailRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r > 0x20 && r < 0x7f
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Z) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.Nd)
}
