package core

import (
	"context"
	"sync"
	"time"
)

// session is a client's signed-in state: its tokens, the validated ID token, the proactive refresh
// timer and the refresh in flight, under a lock of its own. It only makes state transitions, each
// one atomic; the flows that decide them (callback, refresh, logout) are the Client's.
type session struct {
	mu      sync.Mutex
	tokens  *TokenSet   // nil when signed out
	idToken *JWT        // validated ID token of tokens
	flight  *flight     // refresh in progress, if any
	timer   *time.Timer // proactive refresh before expiry
}

// flight is one token refresh shared by every caller that needs it (single-flight).
type flight struct {
	of    *TokenSet // the session being refreshed
	done  chan struct{}
	token string
	err   error
}

// current returns the tokens and ID token; both nil when signed out.
func (s *session) current() (*TokenSet, *JWT) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens, s.idToken
}

// set installs a new session whatever the current one, and arms timer (see arm).
func (s *session) set(t *TokenSet, idt *JWT, arm func() *time.Timer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installLocked(t, idt, arm)
}

// replace installs a new session only if old is still the current one, and reports whether it did.
func (s *session) replace(old, t *TokenSet, idt *JWT, arm func() *time.Timer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens != old {
		return false
	}
	s.installLocked(t, idt, arm)
	return true
}

func (s *session) installLocked(t *TokenSet, idt *JWT, arm func() *time.Timer) {
	s.stopTimerLocked()
	s.tokens, s.idToken = t, idt
	if arm != nil {
		s.timer = arm()
	}
}

// clear signs out and returns the tokens it dropped (nil when already signed out).
func (s *session) clear() *TokenSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens
	s.tokens, s.idToken = nil, nil
	s.stopTimerLocked()
	return t
}

// clearIf signs out only if old is still the current session, and reports whether it did.
func (s *session) clearIf(old *TokenSet) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens != old {
		return false
	}
	s.tokens, s.idToken = nil, nil
	s.stopTimerLocked()
	return true
}

func (s *session) stopTimerLocked() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// join returns the refresh of stale to wait for, calling start with a new flight when none is
// under way. It returns no flight, and the current access token, when the session has already
// moved on from stale; and an error when signed out or stale cannot be refreshed.
func (s *session) join(stale *TokenSet, start func(*flight)) (*flight, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.tokens == nil:
		return nil, "", newError(CodeLoginRequired, "not signed in")
	case s.tokens != stale:
		return nil, s.tokens.AccessToken, nil
	}
	// A flight of an earlier session (still landing after a new sign-in) is not this one's.
	if s.flight == nil || s.flight.of != stale {
		if stale.RefreshToken == "" {
			return nil, "", newError(CodeLoginRequired, "the access token expired and there is no refresh token")
		}
		s.flight = &flight{of: stale, done: make(chan struct{})}
		start(s.flight)
	}
	return s.flight, "", nil
}

// land ends flight f: later callers start a new one.
func (s *session) land(f *flight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight == f {
		s.flight = nil
	}
}

// armRefresh returns the arm function for t: a timer that runs the proactive refresh
// RefreshMargin before expiry, or nil when t has no expiry or auto-refresh is off.
func (c *Client) armRefresh(t *TokenSet) func() *time.Timer {
	if t.Expiry.IsZero() || c.cfg.NoAutoRefresh {
		return nil
	}
	return func() *time.Timer {
		// A floor on the delay: a token that is (nearly) expired on arrival must not make the
		// timer refresh in a loop; lazy refresh in AccessToken still covers requests in between.
		d := t.Expiry.Add(-c.refreshMargin(t)).Sub(c.deps.Now())
		if d < minProactiveDelay {
			d = minProactiveDelay
		}
		return time.AfterFunc(d, func() { c.onExpiring(t) })
	}
}

const minProactiveDelay = time.Second

// onExpiring is the proactive refresh (RFC 6749 §6), run RefreshMargin before expiry.
func (c *Client) onExpiring(t *TokenSet) {
	if cur, _ := c.sess.current(); cur != t {
		return
	}
	c.emit(EventTokenExpiring, map[string]any{"expiresAt": unixOrNil(t.Expiry)})
	if t.RefreshToken != "" {
		_, _ = c.refreshFrom(context.Background(), t) // failures are emitted as EventError
	}
}

// SessionInfo is what an app may know about the session without holding a token: for a status
// line, a countdown to the access token's expiry, or a "refresh now" button.
type SessionInfo struct {
	ExpiresAt   time.Time // the access token's expiry; zero when the provider gave no lifetime
	Scope       string    // the granted scope the token response stated; "" when it stated none
	Refreshable bool      // a refresh token is held
}

// SessionInfo describes the current session, or returns nil when signed out. It holds no token.
func (c *Client) SessionInfo() *SessionInfo {
	t, _ := c.sess.current()
	if t == nil {
		return nil
	}
	return &SessionInfo{ExpiresAt: t.Expiry, Scope: t.Scope, Refreshable: t.RefreshToken != ""}
}
