package core

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"
)

// An unknown kid right after the first fetch (or a prefetch) is a key rotation: the set is fetched
// again at once. Further unknown kids within jwksRefetchInterval of that refetch fetch nothing.
func TestJWKSRefetchOnUnknownKidIsRateLimited(t *testing.T) {
	keys := map[string]*rsa.PrivateKey{}
	for _, kid := range []string{"k1", "k2", "k3"} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys[kid] = k
	}
	for _, prefetch := range []bool{false, true} {
		name := "first fetch by a login"
		if prefetch {
			name = "first fetch by Prefetch"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarnessWith(t, nil, func(d *Deps) { d.SkipSignatureCheck = false; d.Verify = verifyRS256 })
			use := func(kid string, published ...string) {
				h.mu.Lock()
				defer h.mu.Unlock()
				h.kid = kid
				h.sign = func(input string) []byte {
					sum := sha256.Sum256([]byte(input))
					s, err := rsa.SignPKCS1v15(nil, keys[kid], crypto.SHA256, sum[:])
					if err != nil {
						panic(err)
					}
					return s
				}
				var set []any
				for _, p := range published {
					set = append(set, rsaJWK(&keys[p].PublicKey, p))
				}
				h.jwks = mustJSON(t, map[string]any{"keys": set})
			}
			fetches := func() (n int) {
				for _, r := range h.doer.requests() {
					if r.URL == testJWKS {
						n++
					}
				}
				return n
			}
			login := func() error {
				a, _ := h.begin(LoginOptions{})
				_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
				return err
			}

			use("k1", "k1")
			if prefetch {
				h.client.Prefetch(context.Background())
			} else if err := login(); err != nil {
				t.Fatalf("first login: %v", err)
			}
			if n := fetches(); n != 1 {
				t.Fatalf("%d JWKS fetches after the first, want 1", n)
			}

			// The provider rotated to k2 right away: one refetch, and the login succeeds.
			use("k2", "k1", "k2")
			if err := login(); err != nil {
				t.Fatalf("login after key rotation: %v", err)
			}
			if n := fetches(); n != 2 {
				t.Fatalf("%d JWKS fetches after a rotation, want 2", n)
			}

			// Another unknown kid within a minute of that refetch: no third fetch.
			h.clock.Advance(30 * time.Second)
			use("k3", "k1", "k2", "k3")
			err := login()
			wantCode(t, err, CodeInvalidIDToken)
			if n := fetches(); n != 2 {
				t.Fatalf("%d JWKS fetches for a second unknown kid within a minute, want 2", n)
			}

			// A minute after the refetch, an unknown kid may refetch again.
			h.clock.Advance(31 * time.Second)
			if err := login(); err != nil {
				t.Fatalf("login a minute later: %v", err)
			}
			if n := fetches(); n != 3 {
				t.Fatalf("%d JWKS fetches a minute later, want 3", n)
			}
		})
	}
}

// A key's Raw is the key's own JSON text, whatever members it has. (With encoding/json, a member
// named "raw" filled the untagged Raw field, so a key could hand WebCrypto another key than the
// one whose kty, alg and kid were checked.)
func TestJWKRawIsTheKeyItself(t *testing.T) {
	key := `{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB","raw":{"kty":"oct","k":"c2VjcmV0"}}`
	keys, err := ParseJWKS([]byte(`{"keys":[ ` + key + ` ]}`))
	if err != nil || len(keys) != 1 {
		t.Fatalf("ParseJWKS: %v, %d keys", err, len(keys))
	}
	if string(keys[0].Raw) != key {
		t.Errorf("Raw = %s, want the key %s", keys[0].Raw, key)
	}
}
