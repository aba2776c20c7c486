package core

import (
	"os"
	"strings"
	"testing"
)

// The worker takes a callback's login transaction out of IndexedDB before the Go client is up
// (js/src/pkce-wasm.worker.js, takeEarly), so it builds the store key itself: it must be txKey's.
func TestWorkerTxKeyPrefix(t *testing.T) {
	src, err := os.ReadFile("../../js/src/pkce-wasm.worker.js")
	if err != nil {
		t.Fatal(err)
	}
	want := `const TX_KEY_PREFIX = "` + txKeyPrefix + `";`
	if !strings.Contains(string(src), want) {
		t.Fatalf("pkce-wasm.worker.js does not declare %s (core.txKeyPrefix)", want)
	}
	if got := txKey("abc"); got != txKeyPrefix+"abc" {
		t.Fatalf("txKey(abc) = %q, want the prefix and the state", got)
	}
}
