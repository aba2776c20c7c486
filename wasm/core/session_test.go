package core

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestSessionTransitions(t *testing.T) {
	var s session
	a := &TokenSet{AccessToken: "a", RefreshToken: "ra"}
	b := &TokenSet{AccessToken: "b", RefreshToken: "rb"}
	if s.replace(a, b, nil, nil) {
		t.Fatal("replace succeeded over a session that is not old")
	}
	s.set(a, &JWT{Payload: []byte(`{}`)}, nil)
	if cur, idt := s.current(); cur != a || idt == nil {
		t.Fatalf("current = %v, %v after set", cur, idt)
	}
	if !s.replace(a, b, nil, nil) {
		t.Fatal("replace of the current session failed")
	}
	if s.replace(a, a, nil, nil) || s.clearIf(a) {
		t.Fatal("a stale result replaced or cleared the newer session")
	}
	if got := s.clear(); got != b {
		t.Fatalf("clear returned %v, want the dropped session", got)
	}
	if cur, idt := s.current(); cur != nil || idt != nil {
		t.Fatal("tokens survived clear")
	}
	if s.clear() != nil {
		t.Fatal("clear of a signed-out session returned tokens")
	}
}

// Setting or clearing a session stops the previous session's proactive-refresh timer.
func TestSessionStopsTimer(t *testing.T) {
	var s session
	var fired atomic.Int32
	arm := func() *time.Timer { return time.AfterFunc(20*time.Millisecond, func() { fired.Add(1) }) }
	a, b := &TokenSet{AccessToken: "a"}, &TokenSet{AccessToken: "b"}
	s.set(a, nil, arm)
	s.set(b, nil, arm)
	s.clear()
	time.Sleep(60 * time.Millisecond)
	if n := fired.Load(); n != 0 {
		t.Fatalf("%d timers of replaced or cleared sessions fired", n)
	}
}

// join starts one flight per stale session and hands it to every caller until it lands.
func TestSessionJoinSingleFlight(t *testing.T) {
	var s session
	a := &TokenSet{AccessToken: "a", RefreshToken: "ra"}
	if f, _, err := s.join(a, func(*flight) {}); f != nil || ErrorCode(err) != CodeLoginRequired {
		t.Fatalf("join while signed out = %v, %v", f, err)
	}
	s.set(a, nil, nil)
	starts := 0
	start := func(*flight) { starts++ }
	f1, _, err1 := s.join(a, start)
	f2, _, err2 := s.join(a, start)
	if err1 != nil || err2 != nil || f1 == nil || f1 != f2 || starts != 1 {
		t.Fatalf("two joins: %p %p, %d starts, errs %v %v; want one shared flight", f1, f2, starts, err1, err2)
	}
	s.land(f1)
	if f3, _, _ := s.join(a, start); f3 == f1 || starts != 2 {
		t.Fatal("a landed flight was joined again")
	}
	b := &TokenSet{AccessToken: "b"}
	s.set(b, nil, nil)
	if f, tok, err := s.join(a, start); f != nil || tok != "b" || err != nil {
		t.Fatalf("join of a replaced session = %v, %q, %v; want the current token", f, tok, err)
	}
	if f, _, err := s.join(b, start); f != nil || ErrorCode(err) != CodeLoginRequired {
		t.Fatalf("join without a refresh token = %v, %v", f, err)
	}
}
