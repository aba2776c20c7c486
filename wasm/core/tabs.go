package core

import (
	"context"
	"encoding/json"
	"time"
)

// Tabs connects the client to the other tabs of its origin: an origin-wide lock (Web Locks) and a
// broadcast channel (BroadcastChannel). Tokens cross between tabs only as in-memory messages, never
// through storage. Delivery of incoming messages is the implementation's job: it calls
// Client.HandleTabMessage.
type Tabs interface {
	// WithLock runs fn while holding the origin-wide refresh lock for this client.
	WithLock(ctx context.Context, fn func(ctx context.Context)) error
	// Post sends a message to every other tab of the origin.
	Post(msg string)
}

// Message types of the cross-tab protocol.
const (
	msgSession = "session" // here is my current session (after login, refresh, or when asked)
	msgLogout  = "logout"  // I signed out: sign out too
	msgQuery   = "query"   // who has a session? (start-up handoff, and before refreshing)
)

type tabMessage struct {
	Type    string         `json:"type"`
	From    string         `json:"from"`
	Session *sharedSession `json:"session,omitempty"`
}

// sharedSession is a TokenSet on the wire between tabs.
type sharedSession struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope,omitempty"`
	IssuedAt     int64  `json:"issued_at"` // Unix ms; orders sessions: the newest wins
	Expiry       int64  `json:"expiry,omitempty"`
}

func share(t *TokenSet) *sharedSession {
	s := &sharedSession{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken,
		IDToken: t.IDToken, Scope: t.Scope, IssuedAt: t.IssuedAt.UnixMilli()}
	if !t.Expiry.IsZero() {
		s.Expiry = t.Expiry.UnixMilli()
	}
	return s
}

func (s *sharedSession) tokenSet() *TokenSet {
	t := &TokenSet{AccessToken: s.AccessToken, TokenType: s.TokenType, RefreshToken: s.RefreshToken,
		IDToken: s.IDToken, Scope: s.Scope, IssuedAt: time.UnixMilli(s.IssuedAt)}
	if s.Expiry != 0 {
		t.Expiry = time.UnixMilli(s.Expiry)
	}
	return t
}

func (c *Client) tabsPost(m tabMessage) {
	if c.deps.Tabs == nil {
		return
	}
	m.From = c.tabID
	b, err := json.Marshal(m)
	if err == nil {
		c.deps.Tabs.Post(string(b))
	}
}

func (c *Client) shareSession(t *TokenSet) {
	c.tabsPost(tabMessage{Type: msgSession, Session: share(t)})
}

// HandleTabMessage processes a message from another tab. Malformed messages are ignored.
func (c *Client) HandleTabMessage(data string) {
	var m tabMessage
	if err := decodeJSONObject([]byte(data), &m); err != nil || m.From == c.tabID || m.From == "" {
		return
	}
	c.mu.Lock()
	c.peers++
	switch m.Type {
	case msgQuery:
		t := c.tokens
		c.mu.Unlock()
		if t != nil {
			c.shareSession(t)
		}
	case msgLogout:
		had := c.tokens != nil
		c.clearLocked()
		c.mu.Unlock()
		if had {
			c.emit(EventSignedOut, map[string]any{"reason": "other_tab"})
		}
	case msgSession:
		if m.Session == nil {
			c.mu.Unlock()
			return
		}
		t := m.Session.tokenSet()
		if !t.IssuedAt.After(c.loggedOutAt) || (c.tokens != nil && !t.IssuedAt.After(c.tokens.IssuedAt)) {
			c.mu.Unlock()
			return // ours is as new or newer
		}
		idt, ok := c.acceptShared(t)
		if !ok {
			c.mu.Unlock()
			return
		}
		c.setSessionLocked(t, idt)
		c.mu.Unlock()
		c.emit(EventTokenRefreshed, map[string]any{"expiresAt": unixOrNil(t.Expiry), "source": "other_tab"})
	default:
		c.mu.Unlock()
	}
}

// acceptShared checks a session from another tab before adopting it. That tab validated it fully;
// here we make sure it is for this client and, when we already have a session, the same user.
func (c *Client) acceptShared(t *TokenSet) (*JWT, bool) {
	if t.AccessToken == "" || t.IDToken == "" {
		return nil, false
	}
	j, err := ParseJWT(t.IDToken)
	if err != nil || j.Claims.Iss != c.cfg.Issuer || !contains(j.Claims.Aud, c.cfg.ClientID) || j.Claims.Sub == "" {
		return nil, false
	}
	if c.idToken != nil && c.idToken.Claims.Sub != j.Claims.Sub {
		return nil, false
	}
	return j, true
}

// tabSyncWait bounds how long a tab waits for other tabs to answer a query.
const tabSyncWait = 150 * time.Millisecond

// currentIfNewer returns the session if it is no longer old and still usable. When other tabs exist
// it first asks them, because the tab that refreshed before us may have shared its result in a
// message that has not arrived yet (lock grants and messages are not ordered).
func (c *Client) currentIfNewer(ctx context.Context, old *TokenSet) *TokenSet {
	c.mu.Lock()
	if t := c.usableNewerLocked(old); t != nil || c.peers == 0 || c.deps.Tabs == nil {
		c.mu.Unlock()
		return t
	}
	c.mu.Unlock()
	c.tabsPost(tabMessage{Type: msgQuery})
	deadline := time.NewTimer(tabSyncWait)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		t := c.usableNewerLocked(old)
		ch := c.changed
		c.mu.Unlock()
		if t != nil {
			return t
		}
		select {
		case <-ch:
		case <-deadline.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// usableNewerLocked returns the current session if it replaced old (a refresh here or in another
// tab) and has not expired. Its remaining life is not compared with a fixed delta: a freshly
// refreshed short-lived token is exactly what a tab waiting on the lock should take, and refreshing
// again would spend a refresh per tab per period.
func (c *Client) usableNewerLocked(old *TokenSet) *TokenSet {
	t := c.tokens
	if t == nil || t == old || !t.IssuedAt.After(old.IssuedAt) {
		return nil
	}
	if !t.Expiry.IsZero() && !c.deps.Now().Before(t.Expiry) {
		return nil
	}
	return t
}

// RestoreFromTabs asks the other tabs for their session (in-memory handoff after a reload) and
// waits up to wait for one. It reports whether the client is signed in afterwards.
func (c *Client) RestoreFromTabs(ctx context.Context, wait time.Duration) bool {
	if c.deps.Tabs == nil {
		return c.Authenticated()
	}
	c.mu.Lock()
	ch := c.changed
	c.mu.Unlock()
	c.tabsPost(tabMessage{Type: msgQuery})
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	return c.Authenticated()
}
