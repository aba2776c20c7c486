package core

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"testing/cryptotest"

	"golang.org/x/oauth2"
)

// RFC 7636 Appendix B: the 32 random octets, the verifier they encode to and its S256 challenge.
var (
	rfc7636Octets = []byte{116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
		22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121}
	// Note: the RFC's verifier is "...-mB92K27uhb...", not "...-mA3sgsKkL6l2N5DuMtpqVEb2QXYVBM"
	// (that string, seen in some write-ups, hashes to eRE0vpS2iVKyIGT9SoHP1Zj_G4jmRcJJ8GK6wvWi860).
	rfc7636Verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfc7636Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// unreserved is the code verifier alphabet of RFC 7636 §4.1.
const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

func TestS256ChallengeRFC7636AppendixB(t *testing.T) {
	if got := S256Challenge(rfc7636Verifier); got != rfc7636Challenge {
		t.Fatalf("S256Challenge(%q) = %q, want %q (RFC 7636 Appendix B)", rfc7636Verifier, got, rfc7636Challenge)
	}
}

func TestGenerateVerifierRFC7636AppendixBOctets(t *testing.T) {
	// With the Appendix B octets as the randomness source, the verifier is the Appendix B verifier:
	// proves the verifier is BASE64URL(32 octets) without padding (RFC 7636 §4.1).
	v, err := GenerateVerifier(bytes.NewReader(rfc7636Octets))
	if err != nil {
		t.Fatalf("GenerateVerifier: %v", err)
	}
	if v != rfc7636Verifier {
		t.Fatalf("GenerateVerifier(appendix B octets) = %q, want %q", v, rfc7636Verifier)
	}
	if c := S256Challenge(v); c != rfc7636Challenge {
		t.Fatalf("challenge = %q, want %q", c, rfc7636Challenge)
	}
}

func TestGenerateVerifierUsesInjectedReader(t *testing.T) {
	// Two readers with the same bytes give the same verifier; different bytes a different one.
	seed := bytes.Repeat([]byte{0xAB}, 32)
	a, err := GenerateVerifier(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateVerifier(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("same reader bytes gave different verifiers %q and %q", a, b)
	}
	if want := base64.RawURLEncoding.EncodeToString(seed); a != want {
		t.Fatalf("verifier = %q, want %q", a, want)
	}
	c, err := GenerateVerifier(bytes.NewReader(bytes.Repeat([]byte{0xCD}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatalf("different reader bytes gave the same verifier %q", c)
	}
	// It reads exactly 32 bytes: a reader with 40 bytes has 8 left.
	r := bytes.NewReader(make([]byte, 40))
	if _, err := GenerateVerifier(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 8 {
		t.Fatalf("GenerateVerifier consumed %d bytes, want 32", 40-r.Len())
	}
}

func TestGenerateVerifierShortReader(t *testing.T) {
	for _, r := range []io.Reader{
		bytes.NewReader(make([]byte, 31)),
		bytes.NewReader(nil),
		iotestErrReader{errors.New("entropy pool on fire")},
	} {
		v, err := GenerateVerifier(r)
		if err == nil {
			t.Fatalf("GenerateVerifier with a short/failing reader returned %q and no error", v)
		}
		if v != "" {
			t.Errorf("verifier %q returned with error", v)
		}
		if code := ErrorCode(err); code != CodeInternal {
			t.Errorf("code = %q, want %q", code, CodeInternal)
		}
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestGenerateVerifierDefaultIsCryptoRand(t *testing.T) {
	// nil must mean crypto/rand: with crypto/rand made deterministic, nil gives the same verifier
	// twice for the same seed and another one for another seed.
	cryptotest.SetGlobalRandom(t, 7)
	a, err := GenerateVerifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	cryptotest.SetGlobalRandom(t, 7)
	b, err := GenerateVerifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	cryptotest.SetGlobalRandom(t, 8)
	c, err := GenerateVerifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("GenerateVerifier(nil) does not read crypto/rand: same seed gave %q and %q", a, b)
	}
	if a == c {
		t.Fatalf("GenerateVerifier(nil) ignores crypto/rand: seeds 7 and 8 both gave %q", a)
	}
	// And it is what crypto/rand.Reader itself produces for that seed.
	cryptotest.SetGlobalRandom(t, 7)
	raw := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, raw); err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(raw); a != want {
		t.Fatalf("GenerateVerifier(nil) = %q, want BASE64URL of crypto/rand bytes %q", a, want)
	}
}

func TestGenerateVerifierLengthAlphabetAndUniqueness(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		v, err := GenerateVerifier(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 43 {
			t.Fatalf("len(%q) = %d, want 43 (RFC 7636 §4.1, §7.1)", v, len(v))
		}
		if i := strings.IndexFunc(v, func(r rune) bool { return !strings.ContainsRune(unreserved, r) }); i >= 0 {
			t.Fatalf("verifier %q has character %q outside the RFC 7636 alphabet", v, v[i])
		}
		if !ValidVerifier(v) {
			t.Fatalf("ValidVerifier(%q) = false for a generated verifier", v)
		}
		if seen[v] {
			t.Fatalf("verifier %q generated twice", v)
		}
		seen[v] = true
	}
}

func TestValidVerifier(t *testing.T) {
	tests := []struct {
		name string
		v    string
		want bool
	}{
		{"rfc 7636 appendix b", rfc7636Verifier, true},
		{"43 chars minimum", strings.Repeat("a", 43), true},
		{"42 chars too short", strings.Repeat("a", 42), false},
		{"128 chars maximum", strings.Repeat("Z", 128), true},
		{"129 chars too long", strings.Repeat("Z", 129), false},
		{"empty", "", false},
		{"all unreserved punctuation", strings.Repeat("-._~", 11), true},
		{"full alphabet", unreserved, true},
		{"plus (base64 std)", strings.Repeat("a", 42) + "+", false},
		{"slash (base64 std)", strings.Repeat("a", 42) + "/", false},
		{"padding", strings.Repeat("a", 42) + "=", false},
		{"space", strings.Repeat("a", 21) + " " + strings.Repeat("a", 21), false},
		{"percent", strings.Repeat("a", 42) + "%", false},
		{"non-ascii", strings.Repeat("a", 42) + "é", false},
		{"nul", strings.Repeat("a", 42) + "\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidVerifier(tt.v); got != tt.want {
				t.Errorf("ValidVerifier(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

// randomVerifier returns a verifier of random length 43-128 over the whole RFC 7636 alphabet.
func randomVerifier(t *testing.T) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(128-43+1))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 43+n.Int64())
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(unreserved))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = unreserved[k.Int64()]
	}
	return string(b)
}

func TestS256ChallengeMatchesXOAuth2(t *testing.T) {
	check := func(v string) {
		t.Helper()
		if got, want := S256Challenge(v), oauth2.S256ChallengeFromVerifier(v); got != want {
			t.Fatalf("S256Challenge(%q) = %q, oauth2.S256ChallengeFromVerifier = %q", v, got, want)
		}
	}
	check(rfc7636Verifier)
	for i := 0; i < 500; i++ {
		check(oauth2.GenerateVerifier())
		check(randomVerifier(t))
		v, err := GenerateVerifier(nil)
		if err != nil {
			t.Fatal(err)
		}
		check(v)
	}
	// The challenge itself is 43 base64url characters (SHA-256 is 32 bytes) with no padding.
	c := S256Challenge(randomVerifier(t))
	if len(c) != 43 || strings.ContainsAny(c, "+/=") {
		t.Fatalf("challenge %q is not unpadded base64url of 32 bytes", c)
	}
}
