package httpapi

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/tilgang/tilgang/shared/access"
)

// checkText refuses a JSON body whose strings are not valid Unicode text: invalid UTF-8 bytes,
// or a \u escape of a lone surrogate. encoding/json would quietly turn both into U+FFFD and the
// damaged text would be stored. The error names the field by its path ("name", "owner.email",
// "groupIds[2]"); keys at fault are named by their object's path ("body" at the top). Anything
// that is not JSON at all is left to the decoder to report.
func checkText(b []byte) error {
	sc := textScanner{b: b}
	sc.value("")
	return sc.err
}

type textScanner struct {
	b   []byte
	i   int
	err error
	bad bool // a syntax error: stop and let the decoder say what it is
}

const badText = "must be valid UTF-8 text (no invalid bytes, no lone surrogates)"

func (s *textScanner) stop() bool { return s.err != nil || s.bad }

func (s *textScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// afterMember reads what follows a member of an object or an element of an array: a ',' (more
// follow: false) or the closer (done: true); anything else, or a stop, makes the scan end.
func (s *textScanner) afterMember(closer byte) bool {
	if s.stop() {
		return true
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ',' {
		s.i++
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == closer {
		s.i++
		return true
	}
	s.bad = true
	return true
}

func (s *textScanner) value(path string) {
	s.ws()
	if s.i >= len(s.b) {
		s.bad = true
		return
	}
	switch s.b[s.i] {
	case '{':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return
		}
		for !s.stop() {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				s.bad = true
				return
			}
			start := s.i
			if !s.str(orBody(path)) {
				return
			}
			var k string
			if err := json.Unmarshal(s.b[start:s.i], &k); err != nil {
				s.bad = true
				return
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				s.bad = true
				return
			}
			s.i++
			child := k
			if path != "" {
				child = path + "." + k
			}
			s.value(child)
			if s.afterMember('}') {
				return
			}
		}
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return
		}
		for n := 0; !s.stop(); n++ {
			s.value(orBody(path) + "[" + strconv.Itoa(n) + "]")
			if s.afterMember(']') {
				return
			}
		}
	case '"':
		s.str(orBody(path))
	default:
		for s.i < len(s.b) && !isDelim(s.b[s.i]) {
			s.i++
		}
	}
}

func isDelim(c byte) bool {
	return c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// str reads the string at s.i (its opening quote) and reports whether it was sound.
func (s *textScanner) str(field string) bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			if s.i+1 >= len(s.b) {
				s.bad = true
				return false
			}
			if s.b[s.i+1] != 'u' {
				s.i += 2
				continue
			}
			r, ok := s.hex(s.i + 2)
			if !ok {
				s.bad = true
				return false
			}
			s.i += 6
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				s.err = access.Invalid(field, badText)
				return false
			case r >= 0xD800 && r <= 0xDBFF:
				// A high surrogate must be followed at once by an escaped low one.
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					if lo, ok := s.hex(s.i + 2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						s.i += 6
						continue
					}
				}
				s.err = access.Invalid(field, badText)
				return false
			}
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				s.err = access.Invalid(field, badText)
				return false
			}
			s.i += size
		}
	}
	s.bad = true
	return false
}

func (s *textScanner) hex(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.b[at:at+4]), 16, 32)
	return rune(n), err == nil
}
