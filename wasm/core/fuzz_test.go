package core

// Native fuzz targets for every parser that reads attacker-controlled input: ID tokens, token
// responses, callback URLs, discovery documents, JWK Sets and WWW-Authenticate headers.
//
//	make fuzz                     # each target for FUZZTIME (default 30s)
//	go test -run='^$' -fuzz='^FuzzParseJWT$' -fuzztime=1m ./wasm/core/
//
// Without -fuzz, go test runs the f.Add seeds and the corpus in testdata/fuzz/<FuzzName>/ as unit
// tests. Each target checks invariants, not just the absence of panics:
//   - an error is a *Error (not wrapped) with a non-empty code from the documented set, whose
//     message has no control characters and, for inputs over 64 bytes, does not echo the input;
//   - a success satisfies the rules the parser documents, re-checked here independently.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

var fzNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) // 1772600767

// fzIDCheck is the fixed check FuzzParseJWT validates claims against; the committed corpus holds
// a token it accepts.
var fzIDCheck = IDTokenCheck{
	Issuer:   "http://localhost:9090",
	ClientID: "pkce-demo",
	Nonce:    "n-0S6_WzA2Mj",
	Now:      fzNow,
	Skew:     30 * time.Second,
}

const (
	fzIssuer      = "http://localhost:9090"
	fzRedirectURI = "https://app.example.com/callback"
	// fzMinSecret: shorter token values are not checked for echoes, since they could occur in the
	// fixed message text by chance ("token", "Bearer"). Real tokens carry at least 128 bits.
	fzMinSecret = 16
)

// fzError checks the error invariants and returns the *Error.
func fzError(t *testing.T, err error, input string, codes ...string) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e == nil {
		t.Fatalf("error %T %q is not a *Error", err, err)
	}
	if e.Code == "" {
		t.Fatalf("error %q has an empty code", e)
	}
	if len(codes) > 0 && !slices.Contains(codes, e.Code) {
		t.Fatalf("error code %q, want one of %q (%q)", e.Code, codes, e)
	}
	msg := e.Error()
	if len(input) > 64 && strings.Contains(msg, input) {
		t.Fatalf("error message echoes the %d-byte input: %q", len(input), msg)
	}
	for i := 0; i < len(msg); i++ {
		if c := msg[i]; c < 0x20 || c == 0x7f {
			t.Fatalf("error message has control character %#x: %q", c, msg)
		}
	}
	return e
}

func FuzzParseJWT(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	hdr := enc(`{"alg":"RS256","kid":"k1","typ":"JWT"}`)
	f.Add(hdr + "." + enc(`{"iss":"http://localhost:9090","sub":"u1","aud":"pkce-demo","exp":1772601067,"iat":1772600767,"nonce":"n-0S6_WzA2Mj"}`) + "." + enc("sig"))
	f.Add(hdr + "." + enc(`{"iss":"http://localhost:9090","sub":"u1","aud":["pkce-demo","api"],"azp":"pkce-demo","exp":1772600700.5,"iat":1e9,"nbf":1772600790}`) + ".")
	f.Add(enc(`{"alg":"none"}`) + "." + enc(`{}`) + ".")
	f.Add(enc(`{"alg":"HS256","crit":["b64"]}`) + "." + enc(`{"aud":7}`) + "." + enc("x"))
	f.Add("a.b")
	f.Add("a.b.c.d")
	f.Add("e30=.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		j, err := ParseJWT(token)
		if err != nil {
			fzError(t, err, token, CodeInvalidIDToken)
			return
		}
		if len(token) > maxJWTBytes {
			t.Fatalf("accepted a %d-byte token", len(token))
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token with %d parts", len(parts))
		}
		if j.SigningInput != parts[0]+"."+parts[1] {
			t.Fatalf("SigningInput %q, want %q", j.SigningInput, parts[0]+"."+parts[1])
		}
		payload, err1 := base64.RawURLEncoding.DecodeString(parts[1])
		sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
		if err1 != nil || err2 != nil || !bytes.Equal(payload, j.Payload) || !bytes.Equal(sig, j.Signature) {
			t.Fatalf("Payload/Signature differ from the base64url-decoded parts")
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(j.Payload, &obj) != nil {
			t.Fatalf("accepted a payload that is not a JSON object: %q", j.Payload)
		}

		c := fzIDCheck
		if err := j.ValidateClaims(c); err != nil {
			fzError(t, err, token, CodeInvalidIDToken)
			return
		}
		h, cl := j.Header, j.Claims
		switch {
		case !slices.Contains(SupportedAlgs, h.Alg):
			t.Fatalf("accepted alg %q", h.Alg)
		case h.Crit != nil:
			t.Fatalf("accepted crit %v", h.Crit)
		case cl.Iss != c.Issuer:
			t.Fatalf("accepted iss %q", cl.Iss)
		case !slices.Contains(cl.Aud, c.ClientID):
			t.Fatalf("accepted aud %q", cl.Aud)
		case len(cl.Aud) > 1 && cl.Azp != c.ClientID, cl.Azp != "" && cl.Azp != c.ClientID:
			t.Fatalf("accepted aud %q with azp %q", cl.Aud, cl.Azp)
		case cl.Sub == "":
			t.Fatalf("accepted an empty sub")
		case cl.Exp == nil || cl.Iat == nil:
			t.Fatalf("accepted a token without exp or iat")
		case cl.Nonce != c.Nonce:
			t.Fatalf("accepted nonce %q", cl.Nonce)
		}
		// Times, checked in float seconds with 1 ms of slack for the conversion to time.Time.
		now, skew := float64(c.Now.UnixNano())/1e9, c.Skew.Seconds()
		if float64(*cl.Exp)+skew <= now-1e-3 {
			t.Fatalf("accepted exp %v at %v", float64(*cl.Exp), now)
		}
		if float64(*cl.Iat) > now+skew+1e-3 {
			t.Fatalf("accepted iat %v at %v", float64(*cl.Iat), now)
		}
		if cl.Nbf != nil && float64(*cl.Nbf) > now+skew+1e-3 {
			t.Fatalf("accepted nbf %v at %v", float64(*cl.Nbf), now)
		}
	})
}

var fzStatuses = [...]int{200, 400, 401, 500}

// fzStatus maps any fuzzer int onto the statuses a token endpoint is tested with.
func fzStatus(n int) int {
	if slices.Contains(fzStatuses[:], n) {
		return n
	}
	return fzStatuses[uint(n)%uint(len(fzStatuses))]
}

// fzTokenSecrets returns the string values of every top-level member whose name folds to
// access_token or refresh_token, duplicates included (encoding/json matches names
// case-insensitively and keeps the last duplicate). It reads as far as the JSON is well-formed.
func fzTokenSecrets(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return out
		}
		if strings.EqualFold(key, "access_token") || strings.EqualFold(key, "refresh_token") {
			var s string
			if json.Unmarshal(v, &s) == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

func fzASCIIEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func FuzzParseTokenResponse(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"SlAV32hkKG-0123456789abcdef","token_type":"Bearer","expires_in":3600,"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA-0123","id_token":"a.b.c","scope":"openid"}`))
	f.Add(200, []byte(`{"access_token":"at","token_type":"bearer","expires_in":null}`))
	f.Add(200, []byte(`{"access_token":"at","token_type":"DPoP"}`))
	f.Add(200, []byte(`{"access_token":"at","token_type":"Bearer","expires_in":-1}`))
	f.Add(400, []byte(`{"error":"invalid_grant","error_description":"code expired","refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA-0123"}`))
	f.Add(401, []byte(`{"error":"invalid_client"}`))
	f.Add(400, []byte(`{"error":"Invalid Grant\n"}`))
	f.Add(500, []byte(`<html>Internal Server Error</html>`))
	f.Add(200, []byte(`null`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		st := fzStatus(status)
		ts, err := ParseTokenResponse(st, body, fzNow)
		if err != nil {
			e := fzError(t, err, string(body))
			switch {
			case e.Code == CodeInvalidTokenResponse:
			case e.Code == CodeServerError && st >= 500:
			case st != 200 && validOAuthErrorCode(e.Code): // RFC 6749 §5.2 error passed through
			default:
				t.Fatalf("status %d: unexpected error code %q (%q)", st, e.Code, e)
			}
			msg := e.Error()
			for _, s := range fzTokenSecrets(body) {
				if len(s) >= fzMinSecret && strings.Contains(msg, s) {
					t.Fatalf("error message %q contains a token value %q", msg, s)
				}
			}
			return
		}
		if st != 200 {
			t.Fatalf("status %d accepted", st)
		}
		if ts.AccessToken == "" {
			t.Fatalf("accepted an empty access_token")
		}
		if !fzASCIIEqualFold(ts.TokenType, "bearer") {
			t.Fatalf("accepted token_type %q", ts.TokenType)
		}
		if !ts.IssuedAt.Equal(fzNow) {
			t.Fatalf("IssuedAt %v, want %v", ts.IssuedAt, fzNow)
		}
		if !ts.Expiry.IsZero() && (ts.Expiry.Before(fzNow) || ts.Expiry.After(fzNow.Add(1e9*time.Second))) {
			t.Fatalf("Expiry %v out of [now, now+1e9 s]", ts.Expiry)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			t.Fatalf("accepted a body that is not a JSON object: %q", body)
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	f.Add(fzRedirectURI + "?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=http%3A%2F%2Flocalhost%3A9090")
	f.Add(fzRedirectURI + "?error=access_denied&error_description=denied&state=af0ifjsldkj")
	f.Add(fzRedirectURI + "?code=a&error=b&state=s")
	f.Add(fzRedirectURI + "?code=a&state=s&state=t")
	f.Add("HTTPS://APP.example.com:443/callback?state=s&code=c#code=x")
	f.Add("https://app.example.com/callback/../callback?code=c;state=s")
	f.Add("https://evil.example/callback?code=c&state=s")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseCallback(raw, fzRedirectURI)
		if err != nil {
			fzError(t, err, raw, CodeInvalidCallback)
			return
		}
		if p.State == "" {
			t.Fatalf("accepted an empty state")
		}
		if (p.Code == "") == (p.Error == "") {
			t.Fatalf("accepted code %q and error %q: want exactly one", p.Code, p.Error)
		}
		if !p.HasIss && p.Iss != "" {
			t.Fatalf("Iss %q without HasIss", p.Iss)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted an unparsable URL")
		}
		if !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Hostname(), "app.example.com") ||
			(u.Port() != "" && u.Port() != "443") || u.Path != "/callback" {
			t.Fatalf("accepted a callback at %s://%s%s, not the redirect URI", u.Scheme, u.Host, u.Path)
		}
		if !IsCallbackURL(raw) {
			t.Fatalf("IsCallbackURL is false for an accepted callback")
		}
		cleaned, err := url.Parse(CleanCallbackURL(raw))
		if err != nil {
			t.Fatalf("CleanCallbackURL gives an unparsable URL")
		}
		for _, k := range responseParams {
			if cleaned.Query().Has(k) {
				t.Fatalf("CleanCallbackURL left %q in %q", k, cleaned)
			}
		}
	})
}

// fzSecureEndpoint is the endpoint rule of ParseMetadata, restated: https, or http on loopback.
func fzSecureEndpoint(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && IsLoopbackHost(u.Hostname())
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"http://localhost:9090","authorization_endpoint":"http://localhost:9090/authorize","token_endpoint":"http://localhost:9090/oauth/token","jwks_uri":"http://localhost:9090/keys","code_challenge_methods_supported":["S256"],"response_types_supported":["code"]}`))
	f.Add([]byte(`{"issuer":"http://localhost:9090/","authorization_endpoint":"x","token_endpoint":"y"}`))
	f.Add([]byte(`{"issuer":"http://localhost:9090","authorization_endpoint":"http://evil.example/a","token_endpoint":"https://op/t"}`))
	f.Add([]byte(`{"issuer":"http://localhost:9090","authorization_endpoint":"https://a","token_endpoint":"https://t","code_challenge_methods_supported":["plain"]}`))
	f.Add([]byte(`{"issuer":"http://localhost:9090"} {}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMetadata(body, fzIssuer)
		if err != nil {
			fzError(t, err, string(body), CodeDiscoveryFailed)
			return
		}
		if m.Issuer != fzIssuer {
			t.Fatalf("accepted issuer %q", m.Issuer)
		}
		if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" {
			t.Fatalf("accepted a document without authorization or token endpoint")
		}
		for _, ep := range []string{m.AuthorizationEndpoint, m.TokenEndpoint, m.JWKSURI, m.UserinfoEndpoint, m.EndSessionEndpoint, m.RevocationEndpoint} {
			if ep != "" && !fzSecureEndpoint(ep) {
				t.Fatalf("accepted endpoint %q", ep)
			}
		}
		if m.CodeChallengeMethodsSupported != nil && !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
			t.Fatalf("accepted code_challenge_methods_supported %q", m.CodeChallengeMethodsSupported)
		}
		if m.ResponseTypesSupported != nil && !slices.Contains(m.ResponseTypesSupported, "code") {
			t.Fatalf("accepted response_types_supported %q", m.ResponseTypesSupported)
		}
	})
}

// fzKeyType is RFC 7518 §3.1's algorithm → key type and curve, restated for SelectKey.
var fzKeyType = map[string][2]string{
	"RS256": {"RSA", ""}, "RS384": {"RSA", ""}, "RS512": {"RSA", ""},
	"PS256": {"RSA", ""}, "PS384": {"RSA", ""}, "PS512": {"RSA", ""},
	"ES256": {"EC", "P-256"}, "ES384": {"EC", "P-384"}, "ES512": {"EC", "P-521"},
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"use":"sig","kty":"RSA","kid":"k1","alg":"RS256","n":"0vx7agoebGc","e":"AQAB"}]}`), "RS256", "k1")
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83O","y":"x_FE"},{"kty":"EC","crv":"P-256","kid":"b"}]}`), "ES256", "")
	f.Add([]byte(`{"keys":[{"kty":"RSA","use":"enc","kid":"k1"},{"kty":"RSA","kid":"k1","alg":"RS512"},7,"x",null]}`), "RS256", "k1")
	f.Add([]byte(`{"keys":null}`), "none", "")
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}`), "HS256", "")
	f.Fuzz(func(t *testing.T, body []byte, alg, kid string) {
		keys, err := ParseJWKS(body)
		if err != nil {
			fzError(t, err, string(body), CodeInvalidIDToken)
			return
		}
		for _, k := range keys {
			if k == nil {
				t.Fatalf("nil key")
			}
			if k.Use != "" && k.Use != "sig" {
				t.Fatalf("kept a key with use %q", k.Use)
			}
			if !json.Valid(k.Raw) {
				t.Fatalf("key Raw is not JSON: %q", k.Raw)
			}
		}
		h := JOSEHeader{Alg: alg, Kid: kid}
		want, supported := fzKeyType[alg]
		var matches []*JWK
		for _, k := range keys {
			if supported && k.Kty == want[0] && (want[1] == "" || k.Crv == want[1]) &&
				(k.Alg == "" || k.Alg == alg) && (kid == "" || k.Kid == kid) {
				matches = append(matches, k)
			}
		}
		got := SelectKey(keys, h)
		switch {
		case len(matches) == 1 && got != matches[0]:
			t.Fatalf("SelectKey(%q, %q) = %+v, want the one matching key %+v", alg, kid, got, matches[0])
		case len(matches) != 1 && got != nil:
			t.Fatalf("SelectKey(%q, %q) = %+v with %d matching keys", alg, kid, got, len(matches))
		}
	})
}

// fzFormatChallenges serializes challenges canonically: params sorted, values quoted.
func fzFormatChallenges(cs []Challenge) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Scheme)
		if c.Token68 != "" {
			b.WriteString(" " + c.Token68)
			continue
		}
		keys := make([]string, 0, len(c.Params))
		for k := range c.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for j, k := range keys {
			if j == 0 {
				b.WriteString(" ")
			} else {
				b.WriteString(", ")
			}
			v := strings.ReplaceAll(strings.ReplaceAll(c.Params[k], `\`, `\\`), `"`, `\"`)
			b.WriteString(k + `="` + v + `"`)
		}
	}
	return b.String()
}

func fzAllBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func FuzzParseWWWAuthenticate(f *testing.F) {
	f.Add(`Bearer realm="example", error="invalid_token", error_description="The access token expired"`)
	f.Add(`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`)
	f.Add(`Negotiate abc==, Bearer error=insufficient_scope, scope="a b"`)
	f.Add(`DPoP algs="ES256 PS256", error="use_dpop_nonce"`)
	f.Add(`Bearer realm="x`)
	f.Add(`=, ,`)
	f.Fuzz(func(t *testing.T, header string) {
		cs, err := ParseWWWAuthenticate(header)
		b := BearerError(header)
		if b != "" && !validOAuthErrorCode(b) {
			t.Fatalf("BearerError returned %q", b)
		}
		if err != nil {
			fzError(t, err, header, CodeInvalidChallenge)
			if cs != nil {
				t.Fatalf("challenges returned with an error")
			}
			if b != "" {
				t.Fatalf("BearerError %q from a header that does not parse", b)
			}
			return
		}
		if len(header) > maxWWWAuthenticateBytes {
			t.Fatalf("accepted a %d-byte header", len(header))
		}
		isToken68 := func(s string) bool {
			body := strings.TrimRight(s, "=")
			return body != "" && fzAllBytes(body, isToken68Char)
		}
		for _, c := range cs {
			if c.Scheme == "" || !fzAllBytes(c.Scheme, isTChar) {
				t.Fatalf("scheme %q is not a token", c.Scheme)
			}
			if c.Token68 != "" && (c.Params != nil || !isToken68(c.Token68)) {
				t.Fatalf("bad token68 %q (params %v)", c.Token68, c.Params)
			}
			if c.Params != nil && len(c.Params) == 0 {
				t.Fatalf("empty non-nil Params")
			}
			for k, v := range c.Params {
				if k == "" || !fzAllBytes(k, isTChar) || strings.ToLower(k) != k {
					t.Fatalf("param name %q is not a lower-case token", k)
				}
				if !fzAllBytes(v, func(c byte) bool { return isQuotedTextChar(c) || c == '"' || c == '\\' }) {
					t.Fatalf("param value %q has control characters", v)
				}
			}
		}
		want := ""
		if i := slices.IndexFunc(cs, func(c Challenge) bool { return strings.EqualFold(c.Scheme, "Bearer") }); i >= 0 {
			if e := cs[i].Params["error"]; validOAuthErrorCode(e) {
				want = e
			}
		}
		if b != want {
			t.Fatalf("BearerError = %q, want %q", b, want)
		}
		// Round trip: the canonical form parses to the same challenges.
		canon := fzFormatChallenges(cs)
		if len(canon) > maxWWWAuthenticateBytes {
			return
		}
		again, err := ParseWWWAuthenticate(canon)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", canon, err)
		}
		if len(again) != len(cs) {
			t.Fatalf("round trip: %d challenges, want %d (%q)", len(again), len(cs), canon)
		}
		for i := range cs {
			a, c := again[i], cs[i]
			if a.Scheme != c.Scheme || a.Token68 != c.Token68 || len(a.Params) != len(c.Params) || (a.Params == nil) != (c.Params == nil) {
				t.Fatalf("round trip: %#v, want %#v", a, c)
			}
			for k, v := range c.Params {
				if av, ok := a.Params[k]; !ok || av != v {
					t.Fatalf("round trip: param %q = %q, want %q", k, av, v)
				}
			}
		}
	})
}
