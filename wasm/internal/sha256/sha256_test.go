package sha256

import (
	stdsha256 "crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// FIPS 180-4 examples (NIST's "SHA256.pdf" example values, also RFC 6234 §8.5's test 1–3).
func TestKnownAnswers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{strings.Repeat("a", 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
		// RFC 7636 Appendix B: the S256 challenge of the example verifier, hex of its base64url.
		{"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3"},
	} {
		got := Sum256([]byte(tc.in))
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("Sum256(%.20q… len %d) = %x, want %s", tc.in, len(tc.in), got, tc.want)
		}
	}
}

// Every length around the padding boundaries (55/56/63/64 bytes and their multiples) agrees with
// crypto/sha256.
func TestMatchesStandardLibrary(t *testing.T) {
	buf := make([]byte, 300)
	for i := range buf {
		buf[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(buf); n++ {
		if got, want := Sum256(buf[:n]), stdsha256.Sum256(buf[:n]); got != want {
			t.Fatalf("length %d: %x, crypto/sha256 %x", n, got, want)
		}
	}
}

func FuzzSum256(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("abc"))
	f.Add(make([]byte, 56))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Sum256(b), stdsha256.Sum256(b); got != want {
			t.Fatalf("%x: %x, crypto/sha256 %x", b, got, want)
		}
	})
}

func BenchmarkSum256Verifier(b *testing.B) {
	v := []byte("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	for b.Loop() {
		Sum256(v)
	}
}
