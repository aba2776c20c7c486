//go:build js && wasm

package jsbridge

import (
	"bytes"
	"testing"
)

func TestCryptoRandFillsFromGetRandomValues(t *testing.T) {
	r := CryptoRand{B: newTestBridge(t)}
	// Larger than one getRandomValues call may fill (65536 bytes).
	a, b := make([]byte, 70000), make([]byte, 70000)
	if n, err := r.Read(a); err != nil || n != len(a) {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if _, err := r.Read(b); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two reads returned the same bytes")
	}
	// The tail beyond the first 65536-byte chunk is filled too (not left zero).
	if bytes.Count(a[65536:], []byte{0}) > 200 {
		t.Fatalf("second chunk looks unfilled: %d zero bytes of %d", bytes.Count(a[65536:], []byte{0}), len(a)-65536)
	}
}
