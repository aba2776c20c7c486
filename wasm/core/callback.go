package core

import (
	"net/url"
	"strings"
)

// CallbackParams are the parameters of an authorization response (RFC 6749 §4.1.2, §4.1.2.1;
// RFC 9207 §2).
type CallbackParams struct {
	Code             string
	State            string
	Iss              string // RFC 9207; "" when absent
	HasIss           bool
	Error            string
	ErrorDescription string
}

// responseParams are the parameters that must appear at most once (RFC 6749 §3.1).
var responseParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// ParseCallback reads an authorization response from the URL the browser was redirected to.
// The URL must be the registered redirect URI (same scheme, host, port and path): parameters
// arriving anywhere else are not ours to process. Parameters are read from the query; a response
// in the fragment is rejected because we never ask for one.
func ParseCallback(rawURL, redirectURI string) (*CallbackParams, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, newError(CodeInvalidCallback, "callback URL cannot be parsed")
	}
	want, err := url.Parse(redirectURI)
	if err != nil {
		return nil, newError(CodeInvalidConfig, "redirectUri cannot be parsed")
	}
	if !sameEndpoint(u, want) {
		return nil, newError(CodeInvalidCallback, "callback URL is not the configured redirectUri")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, newError(CodeInvalidCallback, "callback query cannot be parsed")
	}
	for _, k := range responseParams {
		if len(q[k]) > 1 {
			return nil, newError(CodeInvalidCallback, "parameter %q appears more than once (RFC 6749 §3.1)", k)
		}
	}
	if err := checkCodeOnlyResponse(q, u.Fragment); err != nil {
		return nil, err
	}
	p := &CallbackParams{
		Code:             q.Get("code"),
		State:            q.Get("state"),
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
	}
	if v, ok := q["iss"]; ok {
		p.Iss, p.HasIss = v[0], true
	}
	if p.State == "" {
		return nil, newError(CodeInvalidCallback, "callback has no state parameter")
	}
	switch {
	case p.Code == "" && p.Error == "":
		return nil, newError(CodeInvalidCallback, "callback has neither code nor error")
	case p.Code != "" && p.Error != "":
		return nil, newError(CodeInvalidCallback, "callback has both code and error")
	}
	return p, nil
}

// tokenResponseParams are what an implicit or hybrid authorization response carries (RFC 6749
// §4.2.2, OIDC Core §3.2.2.5 and §3.3.2.5). We only ever send response_type=code.
var tokenResponseParams = []string{"id_token", "access_token", "token_type"}

// checkCodeOnlyResponse rejects an authorization response that carries tokens: the request asked
// for response_type=code alone, so an id_token or access_token in the answer is an implicit or
// hybrid response we did not ask for (an injected token, or a misconfigured client at the
// provider), and the safe thing is to refuse it rather than ignore it. Looked for in the query
// and, since implicit and hybrid responses default to it, in the fragment. Other unknown
// parameters are ignored as RFC 6749 §4.1.2 requires.
func checkCodeOnlyResponse(q url.Values, fragment string) error {
	f, _ := url.ParseQuery(fragment) // a fragment that is not a form has no token parameters
	for _, k := range tokenResponseParams {
		if _, ok := q[k]; ok {
			return newError(CodeInvalidCallback, "authorization response carries %s: a hybrid or implicit answer to a request for response_type=code", k)
		}
		if _, ok := f[k]; ok {
			return newError(CodeInvalidCallback, "authorization response carries %s in its fragment: a hybrid or implicit answer to a request for response_type=code", k)
		}
	}
	return nil
}

// IsCallbackURL reports whether rawURL is an authorization response by the rule JavaScript's
// PkceWasm.isCallback applies: rawURL is an absolute URL whose query has a "state" key and a
// "code" or "error" key. Values may be empty, so that "?state=&code=x" counts as a callback and
// Callback rejects it with invalid_callback instead of the app silently ignoring it. The fragment
// is not looked at. Keys are decoded as URLSearchParams does (application/x-www-form-urlencoded:
// "+" is a space, malformed percent escapes stay as they are), so that Go and JS agree on every
// input; testdata/iscallback.json holds the vectors both are tested against. Nothing is validated.
func IsCallbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		return false
	}
	var state, codeOrError bool
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		switch formDecode(name) {
		case "state":
			state = true
		case "code", "error":
			codeOrError = true
		}
	}
	return state && codeOrError
}

// formDecode decodes a name of application/x-www-form-urlencoded data the WHATWG URL way: "+"
// becomes a space and "%XX" a byte, and a "%" not followed by two hex digits is kept as it is.
func formDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// CleanCallbackURL returns rawURL without the authorization response parameters, for
// history.replaceState: the code must not stay in the address bar, history or Referer.
func CleanCallbackURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	q := u.Query()
	for _, k := range append(responseParams, "session_state") {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// checkIssuerParam applies RFC 9207 §2.4: when iss is present it must equal the issuer exactly;
// when the provider advertises authorization_response_iss_parameter_supported it must be present.
func checkIssuerParam(p *CallbackParams, m *Metadata) error {
	if p.HasIss && p.Iss != m.Issuer {
		return newError(CodeIssuerMismatch, "authorization response iss does not match the issuer (RFC 9207)")
	}
	if !p.HasIss && m.AuthorizationResponseIssSupported {
		return newError(CodeIssuerMismatch, "authorization response lacks the iss parameter the provider promised (RFC 9207)")
	}
	return nil
}

func sameEndpoint(a, b *url.URL) bool {
	pa, pb := a.EscapedPath(), b.EscapedPath()
	if pa == "" {
		pa = "/"
	}
	if pb == "" {
		pb = "/"
	}
	oa, errA := originOf(a)
	ob, errB := originOf(b)
	return errA == nil && errB == nil && oa == ob && pa == pb
}
