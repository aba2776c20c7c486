package core

import "strings"

// Challenge is one authentication challenge of a WWW-Authenticate header (RFC 9110 §11.3,
// §11.6.1). A challenge carries either auth-params or a token68, never both.
type Challenge struct {
	// Scheme is the auth-scheme as sent. Schemes are case-insensitive (RFC 9110 §11.1): compare
	// with strings.EqualFold.
	Scheme string
	// Params holds the auth-params with lower-case names (parameter names are case-insensitive,
	// RFC 9110 §11.2) and unescaped values; nil when there are none.
	Params map[string]string
	// Token68 is the token68 form of the credentials (RFC 9110 §11.2), or "".
	Token68 string
}

// CodeInvalidChallenge is the Error.Code of a WWW-Authenticate header that cannot be parsed.
const CodeInvalidChallenge = "invalid_challenge"

// maxWWWAuthenticateBytes bounds the header we parse: real ones are well under 1 KB.
const maxWWWAuthenticateBytes = 8 << 10

// ParseWWWAuthenticate parses one WWW-Authenticate field value (RFC 9110 §11.6.1):
//
//	WWW-Authenticate = #challenge
//	challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]   ; §11.3
//	auth-param  = token BWS "=" BWS ( token / quoted-string )       ; §11.2
//	token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// Several challenges are separated by commas, as are the auth-params of one challenge; a name not
// followed by "=" after a comma starts the next challenge. Empty list elements are ignored
// (RFC 9110 §5.6.1). Quoted strings may hold backslash escapes (§5.6.4). Scheme and parameter
// names are case-insensitive; Params keys are lower-cased. A parameter name occurring twice in one
// challenge is an error (§11.2: "each parameter name MUST only occur once per challenge").
//
// This covers Bearer (RFC 6750 §3: realm, scope, error, error_description, error_uri), DPoP
// (RFC 9449 §7.1: also algs) and any other scheme. An empty header gives no challenges and no error.
// A header longer than 8 KiB, control characters or any syntax error give an *Error with Code
// CodeInvalidChallenge whose message names a byte offset, never the header's text. Parsing is
// linear in the length of the header.
func ParseWWWAuthenticate(header string) ([]Challenge, error) {
	if len(header) > maxWWWAuthenticateBytes {
		return nil, newError(CodeInvalidChallenge, "WWW-Authenticate is longer than %d bytes", maxWWWAuthenticateBytes)
	}
	p := challengeParser{s: header}
	var out []Challenge
	for {
		p.skipListSeparators()
		if p.i == len(p.s) {
			return out, nil
		}
		c, err := p.challenge()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// BearerError returns the RFC 6750 §3.1 error code of the first Bearer challenge in the given
// WWW-Authenticate field values ("invalid_request", "invalid_token", "insufficient_scope", or an
// extension code), or "" when there is no Bearer challenge, it has no error parameter (RFC 6750 §3.1:
// a request without credentials) or the code is not a well-formed OAuth error code. A field value
// that cannot be parsed is skipped.
func BearerError(headers ...string) string {
	for _, h := range headers {
		cs, err := ParseWWWAuthenticate(h)
		if err != nil {
			continue
		}
		for _, c := range cs {
			if strings.EqualFold(c.Scheme, "Bearer") {
				if e := c.Params["error"]; validOAuthErrorCode(e) {
					return e
				}
				return ""
			}
		}
	}
	return ""
}

// challengeParser reads a WWW-Authenticate value left to right. Every step consumes input or
// ends a challenge, and each byte is looked at a bounded number of times.
type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) fail(what string) error {
	return newError(CodeInvalidChallenge, "WWW-Authenticate: %s at byte %d", what, p.i)
}

// challenge reads one challenge starting at an auth-scheme (RFC 9110 §11.3).
func (p *challengeParser) challenge() (Challenge, error) {
	scheme := p.token()
	if scheme == "" {
		return Challenge{}, p.fail("expected an auth-scheme")
	}
	c := Challenge{Scheme: scheme}
	spaced := p.skipWS()
	if p.i == len(p.s) || p.s[p.i] == ',' {
		return c, nil
	}
	if !spaced {
		if p.s[p.i] == '=' {
			return Challenge{}, p.fail("expected an auth-scheme before the auth-param")
		}
		return Challenge{}, p.fail("expected a space after the auth-scheme")
	}
	if t, ok := p.token68(); ok {
		c.Token68 = t
		return c, nil
	}
	for first := true; ; first = false {
		nameAt := p.i
		name := p.token()
		if name == "" {
			return Challenge{}, p.fail("expected an auth-param name")
		}
		p.skipWS() // BWS
		if p.i == len(p.s) || p.s[p.i] != '=' {
			if first {
				return Challenge{}, p.fail(`expected "=" after an auth-param name`)
			}
			p.i = nameAt // not a parameter: the auth-scheme of the next challenge
			return c, nil
		}
		p.i++
		p.skipWS() // BWS
		val, err := p.value()
		if err != nil {
			return Challenge{}, err
		}
		key := strings.ToLower(name)
		if _, dup := c.Params[key]; dup {
			p.i = nameAt
			return Challenge{}, p.fail("repeated auth-param")
		}
		if c.Params == nil {
			c.Params = make(map[string]string, 4)
		}
		c.Params[key] = val
		p.skipWS()
		if p.i == len(p.s) {
			return c, nil
		}
		if p.s[p.i] != ',' {
			return Challenge{}, p.fail(`expected "," after an auth-param`)
		}
		p.skipListSeparators()
		if p.i == len(p.s) {
			return c, nil
		}
	}
}

// token68 reads a token68 if one runs from here to the end of the challenge (the end of input or a
// comma, after optional whitespace); otherwise it consumes nothing. It looks ahead only over
// token68 characters and whitespace, which a failed attempt leaves to be read as an auth-param name.
func (p *challengeParser) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return "", false
	}
	t := p.s[p.i:j]
	p.i = k
	return t, true
}

// value reads an auth-param value: token / quoted-string (RFC 9110 §11.2).
func (p *challengeParser) value() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.quotedString()
	}
	v := p.token()
	if v == "" {
		return "", p.fail("expected a token or quoted-string value")
	}
	return v, nil
}

// quotedString reads a quoted-string (RFC 9110 §5.6.4) and returns its unescaped content:
//
//	quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//	qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//	quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
func (p *challengeParser) quotedString() (string, error) {
	p.i++ // DQUOTE
	start := p.i
	var b []byte // nil until the first quoted-pair
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if b == nil {
				return p.s[start : p.i-1], nil
			}
			return string(b), nil
		case c == '\\':
			if p.i+1 == len(p.s) {
				return "", p.fail("unterminated quoted-string")
			}
			if e := p.s[p.i+1]; !isQuotedTextChar(e) && e != '"' && e != '\\' {
				return "", p.fail("invalid quoted-pair")
			}
			if b == nil {
				// Sized by what was read so far, not by what remains: many short escaped values
				// must not each allocate the rest of the header.
				b = append(make([]byte, 0, p.i-start+16), p.s[start:p.i]...)
			}
			b = append(b, p.s[p.i+1])
			p.i += 2
		case isQuotedTextChar(c):
			if b != nil {
				b = append(b, c)
			}
			p.i++
		default:
			return "", p.fail("control character in quoted-string")
		}
	}
	return "", p.fail("unterminated quoted-string")
}

// token reads a token (RFC 9110 §5.6.2), possibly empty.
func (p *challengeParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// skipWS skips OWS / BWS (SP and HTAB) and reports whether there was any.
func (p *challengeParser) skipWS() bool {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	return p.i > start
}

// skipListSeparators skips whitespace and commas: list elements may be empty (RFC 9110 §5.6.1).
func (p *challengeParser) skipListSeparators() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

// isTChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68Char reports whether c may appear in a token68 before its "=" padding (RFC 9110 §11.2).
func isToken68Char(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// isQuotedTextChar reports whether c is qdtext (RFC 9110 §5.6.4): HTAB, SP, VCHAR except DQUOTE and
// backslash, or obs-text.
func isQuotedTextChar(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e || c >= 0x80
}
