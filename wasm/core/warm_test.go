package core

import (
	"testing"
	"time"
)

// warmUp must go through the real parsers to the end (the claim checks), or it warms nothing: its
// made-up token response and ID token must pass them.
func TestWarmUpDataPassesTheChecks(t *testing.T) {
	if err := warmUp(time.Unix(1_800_000_000, 0)); err != nil {
		t.Fatalf("warm-up stopped early: %v", err)
	}
}
