package core

import (
	"net/url"
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

// IsCallbackURL reports whether rawURL looks like an authorization response: it carries state and
// either code or error. It does not validate anything.
func IsCallbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	q := u.Query()
	return q.Get("state") != "" && (q.Get("code") != "" || q.Get("error") != "")
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
