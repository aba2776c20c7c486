package core

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
)

var idNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unsignedJWT builds a compact JWS with the given header and claims and a dummy signature. The
// claim rules are tested without signatures; the signature is checked elsewhere.
func unsignedJWT(t testing.TB, header, claims any) string {
	t.Helper()
	return b64url(mustJSON(t, header)) + "." + b64url(mustJSON(t, claims)) + "." + b64url([]byte("not-a-real-signature"))
}

func idHeader(mod func(h map[string]any)) map[string]any {
	h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"}
	if mod != nil {
		mod(h)
	}
	return h
}

func idClaimsAt(now time.Time, mod func(c map[string]any)) map[string]any {
	c := map[string]any{
		"iss":   "https://op.example.com",
		"sub":   "user-1",
		"aud":   "spa-client",
		"nonce": "nonce-123",
		"iat":   now.Unix(),
		"exp":   now.Add(5 * time.Minute).Unix(),
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func idCheck(mod func(c *IDTokenCheck)) IDTokenCheck {
	c := IDTokenCheck{Issuer: "https://op.example.com", ClientID: "spa-client", Nonce: "nonce-123", Now: idNow, Skew: 30 * time.Second}
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestParseJWT(t *testing.T) {
	claims := idClaimsAt(idNow, func(c map[string]any) { c["name"] = "Ada" })
	tok := unsignedJWT(t, idHeader(nil), claims)
	j, err := ParseJWT(tok)
	if err != nil {
		t.Fatalf("ParseJWT: %v", err)
	}
	parts := strings.Split(tok, ".")
	if j.SigningInput != parts[0]+"."+parts[1] {
		t.Errorf("SigningInput = %q", j.SigningInput)
	}
	if !bytes.Equal(j.Signature, []byte("not-a-real-signature")) {
		t.Errorf("Signature = %q", j.Signature)
	}
	if !bytes.Equal(j.Payload, mustJSON(t, claims)) {
		t.Errorf("Payload = %s", j.Payload)
	}
	if j.Header.Alg != "RS256" || j.Header.Kid != "k1" || j.Header.Typ != "JWT" || j.Header.Crit != nil {
		t.Errorf("Header = %+v", j.Header)
	}
	c := j.Claims
	if c.Iss != "https://op.example.com" || c.Sub != "user-1" || len(c.Aud) != 1 || c.Aud[0] != "spa-client" || c.Nonce != "nonce-123" {
		t.Errorf("Claims = %+v", c)
	}
	if c.Exp == nil || !c.Exp.Time().Equal(idNow.Add(5*time.Minute)) || c.Iat == nil || !c.Iat.Time().Equal(idNow) || c.Nbf != nil {
		t.Errorf("times = exp %v iat %v nbf %v", c.Exp, c.Iat, c.Nbf)
	}

	// aud as an array.
	j, err = ParseJWT(unsignedJWT(t, idHeader(nil), idClaimsAt(idNow, func(c map[string]any) { c["aud"] = []string{"a", "b"} })))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Claims.Aud) != 2 || j.Claims.Aud[0] != "a" || j.Claims.Aud[1] != "b" {
		t.Errorf("aud = %v", j.Claims.Aud)
	}
	// Fractional NumericDate (RFC 7519 §2).
	j, err = ParseJWT(unsignedJWT(t, idHeader(nil), idClaimsAt(idNow, func(c map[string]any) { c["exp"] = 1700000000.5 })))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1700000000, 5e8); !j.Claims.Exp.Time().Equal(want) {
		t.Errorf("fractional exp = %v, want %v", j.Claims.Exp.Time(), want)
	}
}

func TestParseJWTMalformed(t *testing.T) {
	hdr := b64url(mustJSON(t, idHeader(nil)))
	pl := b64url(mustJSON(t, idClaimsAt(idNow, nil)))
	sig := b64url([]byte("sig"))
	claims := func(mod func(c map[string]any)) string {
		return hdr + "." + b64url(mustJSON(t, idClaimsAt(idNow, mod))) + "." + sig
	}
	tests := []struct{ name, tok string }{
		{"empty", ""},
		{"one part", hdr},
		{"two parts", hdr + "." + pl},
		{"four parts", hdr + "." + pl + "." + sig + "." + sig},
		{"JWE-like five parts", hdr + ".." + pl + "." + sig + "." + sig},
		{"bad base64 header", "!!!." + pl + "." + sig},
		{"bad base64 payload", hdr + ".e30*." + sig},
		{"bad base64 signature", hdr + "." + pl + ".sig+/"},
		{"padded base64 payload", hdr + "." + base64.URLEncoding.EncodeToString([]byte(`{"a":1}`)) + "." + sig},
		{"std base64 alphabet", hdr + "." + base64.RawStdEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe}) + "." + sig},
		{"header not JSON", b64url([]byte("alg=RS256")) + "." + pl + "." + sig},
		{"header JSON array", b64url([]byte(`["RS256"]`)) + "." + pl + "." + sig},
		{"header trailing garbage", b64url([]byte(`{"alg":"RS256"}x`)) + "." + pl + "." + sig},
		{"payload not JSON", hdr + "." + b64url([]byte("hello")) + "." + sig},
		{"payload JSON array", hdr + "." + b64url([]byte(`[{"iss":"https://op.example.com"}]`)) + "." + sig},
		{"payload JSON string", hdr + "." + b64url([]byte(`"claims"`)) + "." + sig},
		{"payload JSON number", hdr + "." + b64url([]byte(`42`)) + "." + sig},
		{"payload JSON null", hdr + "." + b64url([]byte(`null`)) + "." + sig},
		{"payload trailing object", hdr + "." + b64url(append(mustJSON(t, idClaimsAt(idNow, nil)), []byte(`{"sub":"admin"}`)...)) + "." + sig},
		{"payload trailing close brace", hdr + "." + b64url(append(mustJSON(t, idClaimsAt(idNow, nil)), '}')) + "." + sig},
		{"aud number", claims(func(c map[string]any) { c["aud"] = 12345 })},
		{"aud array with number", claims(func(c map[string]any) { c["aud"] = []any{"spa-client", 1} })},
		{"aud object", claims(func(c map[string]any) { c["aud"] = map[string]any{"spa-client": true} })},
		{"iss number", claims(func(c map[string]any) { c["iss"] = 1 })},
		{"sub number", claims(func(c map[string]any) { c["sub"] = 1 })},
		{"exp string", claims(func(c map[string]any) { c["exp"] = "1700000000" })},
		{"exp negative", claims(func(c map[string]any) { c["exp"] = -1 })},
		{"exp absurd", claims(func(c map[string]any) { c["exp"] = 1e300 })},
		{"iat bool", claims(func(c map[string]any) { c["iat"] = true })},
		{"nonce number", claims(func(c map[string]any) { c["nonce"] = 7 })},
		{"too large", claims(func(c map[string]any) { c["pad"] = strings.Repeat("x", 70<<10) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := ParseJWT(tt.tok)
			if err == nil {
				// A wrongly-typed claim may alternatively be caught by ValidateClaims; it must
				// never validate.
				if verr := j.ValidateClaims(idCheck(nil)); verr == nil {
					t.Fatalf("malformed token %.60q parsed and validated", tt.tok)
				}
				t.Fatalf("ParseJWT accepted malformed token %.60q: %+v", tt.tok, j.Claims)
			}
			wantCode(t, err, CodeInvalidIDToken)
		})
	}
}

func TestValidateClaims(t *testing.T) {
	type mods struct {
		header func(h map[string]any)
		claims func(c map[string]any)
		check  func(c *IDTokenCheck)
	}
	ago := func(d time.Duration) int64 { return idNow.Add(-d).Unix() }
	in := func(d time.Duration) int64 { return idNow.Add(d).Unix() }
	tests := []struct {
		name  string
		m     mods
		valid bool
	}{
		// Accepted.
		{"baseline", mods{}, true},
		{"aud array with only the client", mods{claims: func(c map[string]any) { c["aud"] = []string{"spa-client"} }}, true},
		{"several aud with azp = client", mods{claims: func(c map[string]any) {
			c["aud"] = []string{"spa-client", "https://api.example.com"}
			c["azp"] = "spa-client"
		}}, true},
		{"single aud with azp = client", mods{claims: func(c map[string]any) { c["azp"] = "spa-client" }}, true},
		{"expired within skew", mods{claims: func(c map[string]any) { c["exp"] = ago(20 * time.Second); c["iat"] = ago(time.Hour) }}, true},
		{"iat in the future within skew", mods{claims: func(c map[string]any) { c["iat"] = in(20 * time.Second) }}, true},
		{"nbf in the future within skew", mods{claims: func(c map[string]any) { c["nbf"] = in(20 * time.Second) }}, true},
		{"nbf in the past", mods{claims: func(c map[string]any) { c["nbf"] = ago(time.Minute) }}, true},
		{"no nonce expected (refresh), token has one", mods{check: func(c *IDTokenCheck) { c.Nonce = "" }}, true},
		{"no nonce expected, token has none", mods{claims: func(c map[string]any) { delete(c, "nonce") }, check: func(c *IDTokenCheck) { c.Nonce = "" }}, true},
		{"ES256 when allowed", mods{header: func(h map[string]any) { h["alg"] = "ES256" }, check: func(c *IDTokenCheck) { c.AllowedAlgs = []string{"RS256", "ES256"} }}, true},
		{"PS512 with default algs", mods{header: func(h map[string]any) { h["alg"] = "PS512" }}, true},
		{"no typ", mods{header: func(h map[string]any) { delete(h, "typ") }}, true},
		{"zero skew, valid", mods{check: func(c *IDTokenCheck) { c.Skew = 0 }}, true},

		// OIDC Core §3.1.3.7 step 2: iss.
		{"wrong iss", mods{claims: func(c map[string]any) { c["iss"] = "https://evil.example.com" }}, false},
		{"iss trailing slash", mods{claims: func(c map[string]any) { c["iss"] = "https://op.example.com/" }}, false},
		{"iss missing", mods{claims: func(c map[string]any) { delete(c, "iss") }}, false},
		// Step 3: aud.
		{"aud missing client", mods{claims: func(c map[string]any) { c["aud"] = "other-client" }}, false},
		{"aud array missing client", mods{claims: func(c map[string]any) { c["aud"] = []string{"a", "b"}; c["azp"] = "spa-client" }}, false},
		{"aud missing", mods{claims: func(c map[string]any) { delete(c, "aud") }}, false},
		{"aud empty array", mods{claims: func(c map[string]any) { c["aud"] = []string{} }}, false},
		{"aud client prefix", mods{claims: func(c map[string]any) { c["aud"] = "spa-client-2" }}, false},
		// Steps 4-5: azp.
		{"multiple aud without azp", mods{claims: func(c map[string]any) { c["aud"] = []string{"spa-client", "other"} }}, false},
		{"azp wrong, single aud", mods{claims: func(c map[string]any) { c["azp"] = "other" }}, false},
		{"azp wrong, multiple aud", mods{claims: func(c map[string]any) { c["aud"] = []string{"spa-client", "other"}; c["azp"] = "other" }}, false},
		// Step 6: alg.
		{"alg none", mods{header: func(h map[string]any) { h["alg"] = "none" }}, false},
		{"alg None", mods{header: func(h map[string]any) { h["alg"] = "None" }}, false},
		{"alg HS256", mods{header: func(h map[string]any) { h["alg"] = "HS256" }}, false},
		{"alg HS256 even if listed", mods{header: func(h map[string]any) { h["alg"] = "HS256" }, check: func(c *IDTokenCheck) { c.AllowedAlgs = []string{"HS256", "RS256"} }}, false},
		{"alg lower-case rs256", mods{header: func(h map[string]any) { h["alg"] = "rs256" }}, false},
		{"alg missing", mods{header: func(h map[string]any) { delete(h, "alg") }}, false},
		{"alg not in allowed list", mods{check: func(c *IDTokenCheck) { c.AllowedAlgs = []string{"ES256"} }}, false},
		{"alg with empty allowed list", mods{check: func(c *IDTokenCheck) { c.AllowedAlgs = []string{} }}, false},
		{"alg unknown", mods{header: func(h map[string]any) { h["alg"] = "EdDSA" }}, false},
		{"crit header", mods{header: func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }}, false},
		{"crit header empty list", mods{header: func(h map[string]any) { h["crit"] = []string{} }}, false},
		// Step 9: exp.
		{"expired beyond skew", mods{claims: func(c map[string]any) { c["exp"] = ago(31 * time.Second); c["iat"] = ago(time.Hour) }}, false},
		{"expired exactly skew ago", mods{claims: func(c map[string]any) { c["exp"] = ago(30 * time.Second); c["iat"] = ago(time.Hour) }}, false},
		{"expired long ago", mods{claims: func(c map[string]any) { c["exp"] = ago(24 * time.Hour); c["iat"] = ago(25 * time.Hour) }}, false},
		{"expired, zero skew", mods{claims: func(c map[string]any) { c["exp"] = ago(time.Second) }, check: func(c *IDTokenCheck) { c.Skew = 0 }}, false},
		{"exp missing", mods{claims: func(c map[string]any) { delete(c, "exp") }}, false},
		// Step 10: iat.
		{"iat in the future beyond skew", mods{claims: func(c map[string]any) { c["iat"] = in(31 * time.Second) }}, false},
		{"iat missing", mods{claims: func(c map[string]any) { delete(c, "iat") }}, false},
		{"nbf in the future beyond skew", mods{claims: func(c map[string]any) { c["nbf"] = in(31 * time.Second) }}, false},
		// Step 11: nonce.
		{"nonce mismatch", mods{claims: func(c map[string]any) { c["nonce"] = "other-nonce" }}, false},
		{"nonce missing", mods{claims: func(c map[string]any) { delete(c, "nonce") }}, false},
		{"nonce case differs", mods{claims: func(c map[string]any) { c["nonce"] = "NONCE-123" }}, false},
		// §2: sub.
		{"sub missing", mods{claims: func(c map[string]any) { delete(c, "sub") }}, false},
		{"sub empty", mods{claims: func(c map[string]any) { c["sub"] = "" }}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := unsignedJWT(t, idHeader(tt.m.header), idClaimsAt(idNow, tt.m.claims))
			j, err := ParseJWT(tok)
			if err != nil {
				t.Fatalf("ParseJWT: %v", err)
			}
			err = j.ValidateClaims(idCheck(tt.m.check))
			if tt.valid {
				if err != nil {
					t.Fatalf("ValidateClaims: %v", err)
				}
				return
			}
			wantCode(t, err, CodeInvalidIDToken)
		})
	}
}

func TestValidateClaimsErrorsDoNotEchoToken(t *testing.T) {
	tok := unsignedJWT(t, idHeader(func(h map[string]any) { h["alg"] = "none\x1b[2J" + strings.Repeat("A", 400) }), idClaimsAt(idNow, nil))
	j, err := ParseJWT(tok)
	if err != nil {
		t.Fatal(err)
	}
	err = j.ValidateClaims(idCheck(nil))
	e := wantCode(t, err, CodeInvalidIDToken)
	if strings.Contains(e.Error(), tok) || strings.Contains(e.Error(), "\x1b") || len(e.Error()) > 300 {
		t.Errorf("error %q echoes the token or unsanitized header text", e.Error())
	}
}

func TestAudienceUnmarshal(t *testing.T) {
	for in, want := range map[string][]string{
		`"a"`:       {"a"},
		`["a"]`:     {"a"},
		`["a","b"]`: {"a", "b"},
		`[]`:        {},
	} {
		a, err := parseAudience(mustParseJSON(t, in))
		if err != nil {
			t.Errorf("audience %s: %v", in, err)
			continue
		}
		if len(a) != len(want) {
			t.Errorf("audience %s = %q, want %q", in, a, want)
			continue
		}
		for i := range a {
			if a[i] != want[i] {
				t.Errorf("audience %s = %q, want %q", in, a, want)
			}
		}
	}
	for _, in := range []string{`1`, `true`, `{"a":1}`, `[1]`, `["a",null,1]`} {
		if a, err := parseAudience(mustParseJSON(t, in)); err == nil {
			t.Errorf("audience %s accepted as %q", in, a)
		}
	}
}

func mustParseJSON(t *testing.T, s string) strictjson.Value {
	t.Helper()
	v, err := strictjson.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
