package core

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of the DPoP proof itself (RFC 9449 §4.2, §4.3), the thumbprint (RFC 7638) and nonce
// syntax (§8.1). Client flows are in dpop_client_test.go.

// ecdsaDPoPKey is a DPoPKey backed by a Go ECDSA P-256 key: the same R||S output WebCrypto gives.
func ecdsaDPoPKey(t testing.TB) (*DPoPKey, *ecdsa.PrivateKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dpopKeyOf(priv), priv
}

func dpopKeyOf(priv *ecdsa.PrivateKey) *DPoPKey {
	pub, _ := priv.PublicKey.Bytes() // 0x04 || X || Y
	return &DPoPKey{
		Public: DPoPPublicKey{Crv: "P-256",
			X: base64.RawURLEncoding.EncodeToString(pub[1:33]),
			Y: base64.RawURLEncoding.EncodeToString(pub[33:65])},
		Sign: func(_ context.Context, input []byte) ([]byte, error) {
			h := sha256.Sum256(input)
			r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
			if err != nil {
				return nil, err
			}
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return sig, nil
		},
	}
}

// parsedProof is a proof taken apart and its signature checked, as a server does (§4.3).
type parsedProof struct {
	header    map[string]json.RawMessage
	jwk       map[string]string
	claims    map[string]json.RawMessage
	claimsStr map[string]string
	iat       int64
}

// parseProof checks §4.3 steps 2-7 on proof (one JWS, typ, alg, jwk without private members, a
// signature that verifies with the jwk) and returns its parts.
func parseProof(t testing.TB, proof string) parsedProof {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof has %d segments, want 3 (compact JWS)", len(parts))
	}
	var p parsedProof
	dec := func(seg string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			t.Fatalf("segment is not unpadded base64url: %v", err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("segment %s is not a JSON object: %v", b, err)
		}
	}
	dec(parts[0], &p.header)
	dec(parts[1], &p.claims)
	if len(p.header) != 3 {
		t.Errorf("header has members %v, want exactly typ, alg, jwk", keysOf(p.header))
	}
	if s := rawString(t, p.header["typ"]); s != "dpop+jwt" {
		t.Errorf("typ = %q, want dpop+jwt", s)
	}
	if s := rawString(t, p.header["alg"]); s != "ES256" {
		t.Errorf("alg = %q, want ES256", s)
	}
	if err := json.Unmarshal(p.header["jwk"], &p.jwk); err != nil {
		t.Fatalf("jwk: %v", err)
	}
	if len(p.jwk) != 4 || p.jwk["kty"] != "EC" || p.jwk["crv"] != "P-256" || p.jwk["x"] == "" || p.jwk["y"] == "" {
		t.Errorf("jwk = %v, want exactly kty EC, crv P-256, x, y (public members only)", p.jwk)
	}
	x, errX := base64.RawURLEncoding.DecodeString(p.jwk["x"])
	y, errY := base64.RawURLEncoding.DecodeString(p.jwk["y"])
	sig, errS := base64.RawURLEncoding.DecodeString(parts[2])
	if errX != nil || errY != nil || errS != nil || len(x) != 32 || len(y) != 32 || len(sig) != 64 {
		t.Fatalf("key or signature sizes wrong: x %d, y %d, sig %d", len(x), len(y), len(sig))
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Errorf("the proof's signature does not verify with its jwk")
	}
	p.claimsStr = map[string]string{}
	for k, v := range p.claims {
		if k == "iat" {
			if err := json.Unmarshal(v, &p.iat); err != nil {
				t.Errorf("iat %s is not an integer: %v", v, err)
			}
			continue
		}
		p.claimsStr[k] = rawString(t, v)
	}
	return p
}

func rawString(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Errorf("%s is not a JSON string", raw)
	}
	return s
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// RFC 9449 §4.2 (header and claims), §4.3 steps 2-7 (signature by the jwk), §4.2 ath.
func TestDPoPProofStructure(t *testing.T) {
	key, priv := ecdsaDPoPKey(t)
	now := time.Unix(1_800_000_000, 0)

	t.Run("token request: jti, htm, htu, iat only", func(t *testing.T) {
		proof, err := BuildDPoPProof(context.Background(), key, DPoPProofParams{Method: "POST",
			URL: "https://Server.Example.com:443/token?x=1#frag", Now: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := parseProof(t, proof)
		if len(p.claims) != 4 {
			t.Errorf("claims %v, want exactly jti, htm, htu, iat", keysOf(p.claims))
		}
		if got := p.claimsStr["htm"]; got != "POST" {
			t.Errorf("htm = %q", got)
		}
		if got := p.claimsStr["htu"]; got != "https://server.example.com/token" {
			t.Errorf("htu = %q, want the URL without query and fragment (§4.2)", got)
		}
		if p.iat != now.Unix() {
			t.Errorf("iat = %d, want %d", p.iat, now.Unix())
		}
		if jti, err := base64.RawURLEncoding.DecodeString(p.claimsStr["jti"]); err != nil || len(jti) < 16 {
			t.Errorf("jti %q: want at least 128 random bits", p.claimsStr["jti"])
		}
		wantX, _ := priv.PublicKey.Bytes()
		if p.jwk["x"] != base64.RawURLEncoding.EncodeToString(wantX[1:33]) {
			t.Errorf("jwk x is not the signing key's")
		}
	})
	t.Run("resource request: ath and nonce", func(t *testing.T) {
		proof, err := BuildDPoPProof(context.Background(), key, DPoPProofParams{Method: "GET",
			URL: "https://resource.example.org/protectedresource", AccessToken: "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU",
			Nonce: "eyJ7S_zG.eyJH0-Z.HX4w-7v", Now: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := parseProof(t, proof)
		if len(p.claims) != 6 {
			t.Errorf("claims %v, want jti, htm, htu, iat, ath, nonce", keysOf(p.claims))
		}
		// RFC 9449 §7.1's example access token and its ath.
		if got := p.claimsStr["ath"]; got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
			t.Errorf("ath = %q, want RFC 9449 §7.1's value", got)
		}
		if got := p.claimsStr["nonce"]; got != "eyJ7S_zG.eyJH0-Z.HX4w-7v" {
			t.Errorf("nonce = %q", got)
		}
	})
	t.Run("refused inputs", func(t *testing.T) {
		for _, c := range []struct {
			name string
			p    DPoPProofParams
			k    *DPoPKey
			code string
		}{
			{"relative URL", DPoPProofParams{Method: "GET", URL: "/api"}, key, CodeInvalidConfig},
			{"ftp URL", DPoPProofParams{Method: "GET", URL: "ftp://x.example/"}, key, CodeInvalidConfig},
			{"user info", DPoPProofParams{Method: "GET", URL: "https://u:p@x.example/"}, key, CodeInvalidConfig},
			{"no method", DPoPProofParams{URL: "https://x.example/"}, key, CodeInvalidConfig},
			{"malformed nonce", DPoPProofParams{Method: "GET", URL: "https://x.example/", Nonce: "a b"}, key, CodeInvalidDPoPNonce},
			{"no key", DPoPProofParams{Method: "GET", URL: "https://x.example/"}, nil, CodeDPoPUnsupported},
			{"P-384 key", DPoPProofParams{Method: "GET", URL: "https://x.example/"}, &DPoPKey{Public: DPoPPublicKey{Crv: "P-384", X: key.Public.X, Y: key.Public.Y}, Sign: key.Sign}, CodeDPoPUnsupported},
			{"DER signer", DPoPProofParams{Method: "GET", URL: "https://x.example/"}, &DPoPKey{Public: key.Public, Sign: func(context.Context, []byte) ([]byte, error) { return make([]byte, 71), nil }}, CodeDPoPUnsupported},
			{"failing signer", DPoPProofParams{Method: "GET", URL: "https://x.example/"}, &DPoPKey{Public: key.Public, Sign: func(context.Context, []byte) ([]byte, error) { return nil, errors.New("no") }}, CodeDPoPUnsupported},
		} {
			if _, err := BuildDPoPProof(context.Background(), c.k, c.p, nil); ErrorCode(err) != c.code {
				t.Errorf("%s: err %v, want %s", c.name, err, c.code)
			}
		}
	})
}

// RFC 9449 §4.2 htu "without query and fragment parts", compared by servers after RFC 3986
// §6.2.2/§6.2.3 normalization (§4.3 step 10).
func TestDPoPHTU(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://server.example.com/token", "https://server.example.com/token"},
		{"https://server.example.com/token?a=b", "https://server.example.com/token"},
		{"https://server.example.com/token#frag", "https://server.example.com/token"},
		{"https://server.example.com/token?a=b#frag", "https://server.example.com/token"},
		{"HTTPS://Server.EXAMPLE.com/Token", "https://server.example.com/Token"},
		{"https://server.example.com:443/token", "https://server.example.com/token"},
		{"http://localhost:80/api", "http://localhost/api"},
		{"http://localhost:8080/api/me", "http://localhost:8080/api/me"},
		{"https://server.example.com", "https://server.example.com/"},
		{"https://server.example.com?x", "https://server.example.com/"},
		{"https://[::1]:8443/a", "https://[::1]:8443/a"},
		{"https://[::1]/a", "https://[::1]/a"},
		{"https://x.example/a%20b/c", "https://x.example/a%20b/c"},
	} {
		got, err := DPoPHTU(c.in)
		if err != nil || got != c.want {
			t.Errorf("DPoPHTU(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "/token", "token", "mailto:a@b", "ftp://x.example/", "https://u@x.example/", "https://%zz/"} {
		if got, err := DPoPHTU(bad); err == nil {
			t.Errorf("DPoPHTU(%q) = %q, want an error", bad, got)
		}
	}
}

// RFC 7638 §3.1: the example RSA key's SHA-256 thumbprint.
func TestJWKThumbprintRFC7638Example(t *testing.T) {
	jwk := map[string]string{
		"kty": "RSA",
		"n":   "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
		"e":   "AQAB",
		"alg": "RS256", // not a required member: ignored (§3.2)
		"kid": "2011-04-29",
	}
	got, err := JWKThumbprint(jwk)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint = %q, %v; want RFC 7638 §3.1's NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", got, err)
	}
	if _, err := JWKThumbprint(map[string]string{"kty": "EC", "crv": "P-256", "x": "a"}); err == nil {
		t.Errorf("an EC JWK without y has a thumbprint")
	}
	if _, err := JWKThumbprint(map[string]string{"kty": "oct", "k": "a"}); err == nil {
		t.Errorf("an oct JWK has a thumbprint")
	}
}

// The EC thumbprint is RFC 7638 over {"crv","kty","x","y"} in that order.
func TestDPoPPublicKeyThumbprint(t *testing.T) {
	key, _ := ecdsaDPoPKey(t)
	got, err := key.Public.Thumbprint()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + key.Public.X + `","y":"` + key.Public.Y + `"}`))
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("thumbprint %q, want %q", got, want)
	}
}

// RFC 9449 §8.1: nonce = 1*NQCHAR; NQCHAR = %x21 / %x23-5B / %x5D-7E.
func TestValidDPoPNonce(t *testing.T) {
	for _, ok := range []string{"eyJ7S_zG.eyJH0-Z.HX4w-7v", "!", "a~z", "[]{}", strings.Repeat("n", 1024)} {
		if !ValidDPoPNonce(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "a b", `a"b`, `a\b`, "a\tb", "a\nb", "é", "a\x7f", strings.Repeat("n", 1025)} {
		if ValidDPoPNonce(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// RFC 9449 §4.2, §11.1: every proof has a unique jti.
func TestDPoPJTINeverRepeats(t *testing.T) {
	key, _ := ecdsaDPoPKey(t)
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				proof, err := BuildDPoPProof(context.Background(), key, DPoPProofParams{Method: "GET", URL: "https://x.example/a", Now: time.Unix(1, 0)}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				claims, _ := base64.RawURLEncoding.DecodeString(strings.Split(proof, ".")[1])
				var c struct{ JTI string }
				_ = json.Unmarshal(claims, &c)
				mu.Lock()
				if seen[c.JTI] {
					t.Errorf("jti %q repeated", c.JTI)
				}
				seen[c.JTI] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 1000 {
		t.Errorf("%d distinct jti, want 1000", len(seen))
	}
}

// Challenges: use_dpop_nonce only in a DPoP challenge; invalid_token in either scheme.
func TestDPoPChallenges(t *testing.T) {
	for _, c := range []struct {
		h            string
		nonce, inval bool
	}{
		{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`, true, false},
		{`DPoP algs="ES256", error="invalid_token"`, false, true},
		{`Bearer realm="r", error="invalid_token"`, false, true},
		{`Bearer error="use_dpop_nonce"`, false, false},
		{`DPoP realm="r"`, false, false},
		{`DPoP error="invalid_dpop_proof"`, false, false},
		{`garbage "`, false, false},
	} {
		if got := DPoPNonceChallenge(c.h); got != c.nonce {
			t.Errorf("DPoPNonceChallenge(%s) = %v", c.h, got)
		}
		if got := InvalidTokenChallenge(c.h); got != c.inval {
			t.Errorf("InvalidTokenChallenge(%s) = %v", c.h, got)
		}
	}
}

func BenchmarkDPoPProof(b *testing.B) {
	key, _ := ecdsaDPoPKey(b)
	p := DPoPProofParams{Method: "GET", URL: "https://api.example.com/me", AccessToken: "tok", Now: time.Unix(1, 0)}
	for b.Loop() {
		if _, err := BuildDPoPProof(context.Background(), key, p, nil); err != nil {
			b.Fatal(err)
		}
	}
}
