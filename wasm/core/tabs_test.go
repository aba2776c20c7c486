package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Cross-tab protocol tests: several clients ("tabs") joined by an in-memory hub that delivers each
// message asynchronously in its own goroutine (so unordered, like BroadcastChannel versus Web
// Locks), against a fake provider that rotates refresh tokens and rejects reuse.

type tabsHub struct {
	lock    sync.Mutex // the origin-wide Web Lock
	mu      sync.Mutex
	members []*Client
	drop    func(to int, msg string) bool // drop a delivery (simulates a late message)
}

type tabsMember struct {
	hub *tabsHub
	idx int
}

func (m *tabsMember) WithLock(ctx context.Context, fn func(context.Context)) error {
	m.hub.lock.Lock()
	defer m.hub.lock.Unlock()
	fn(ctx)
	return nil
}

func (m *tabsMember) Post(msg string) {
	m.hub.mu.Lock()
	members := append([]*Client(nil), m.hub.members...)
	drop := m.hub.drop
	m.hub.mu.Unlock()
	for i, c := range members {
		if i == m.idx || c == nil || (drop != nil && drop(i, msg)) {
			continue
		}
		go c.HandleTabMessage(msg)
	}
}

// tabsOP is a fake provider: discovery, authorization_code and refresh_token grants with rotation.
type tabsOP struct {
	mu        sync.Mutex
	now       func() time.Time
	gen       int
	validRT   string
	refreshes atomic.Int32
	reuses    atomic.Int32
	lifetime  time.Duration     // access token lifetime; 0 = 1 h
	nonces    map[string]string // code -> nonce
}

const tabsIssuer = "https://op.example.com"

func (op *tabsOP) Do(ctx context.Context, r *HTTPRequest) (*HTTPResponse, error) {
	if strings.HasSuffix(r.URL, "/.well-known/openid-configuration") {
		b, _ := json.Marshal(map[string]any{"issuer": tabsIssuer, "authorization_endpoint": tabsIssuer + "/authorize",
			"token_endpoint": tabsIssuer + "/token", "jwks_uri": tabsIssuer + "/keys"})
		return &HTTPResponse{Status: 200, Body: b}, nil
	}
	if strings.HasSuffix(r.URL, "/keys") {
		return &HTTPResponse{Status: 200, Body: []byte(`{"keys":[]}`)}, nil
	}
	form, _ := url.ParseQuery(r.Body)
	op.mu.Lock()
	defer op.mu.Unlock()
	nonce := ""
	switch form.Get("grant_type") {
	case "authorization_code":
		nonce = op.nonces[form.Get("code")]
	case "refresh_token":
		op.refreshes.Add(1)
		if form.Get("refresh_token") != op.validRT {
			op.reuses.Add(1)
			return &HTTPResponse{Status: 400, Body: []byte(`{"error":"invalid_grant","error_description":"refresh token reused"}`)}, nil
		}
	default:
		return &HTTPResponse{Status: 400, Body: []byte(`{"error":"unsupported_grant_type"}`)}, nil
	}
	op.gen++
	op.validRT = "rt-" + strconv.Itoa(op.gen)
	now := op.now()
	claims, _ := json.Marshal(map[string]any{"iss": tabsIssuer, "sub": "user-1", "aud": "spa", "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "nonce": nonce})
	idt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	life := op.lifetime
	if life == 0 {
		life = time.Hour
	}
	b, _ := json.Marshal(map[string]any{"access_token": "at-" + strconv.Itoa(op.gen), "token_type": "Bearer",
		"expires_in": life.Seconds(), "refresh_token": op.validRT, "id_token": idt})
	return &HTTPResponse{Status: 200, Body: b}, nil
}

type tabsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tabsClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *tabsClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type tabsWorld struct {
	hub   *tabsHub
	op    *tabsOP
	clock *tabsClock
	tabs  []*Client
	store *MemoryTxStore
}

func newTabsWorld(t *testing.T, n int) *tabsWorld {
	t.Helper()
	clock := &tabsClock{t: time.Unix(1_800_000_000, 0)}
	w := &tabsWorld{hub: &tabsHub{}, op: &tabsOP{now: clock.Now, nonces: map[string]string{}}, clock: clock, store: &MemoryTxStore{}}
	w.hub.members = make([]*Client, n)
	for i := 0; i < n; i++ {
		c, err := NewClient(Config{Issuer: tabsIssuer, ClientID: "spa", RedirectURI: "https://app.example.com/callback",
			Scope: "openid offline_access", NoAutoRefresh: true},
			Deps{HTTP: w.op, Store: w.store, Now: clock.Now, SkipSignatureCheck: true, Tabs: &tabsMember{hub: w.hub, idx: i}})
		if err != nil {
			t.Fatal(err)
		}
		w.hub.mu.Lock()
		w.hub.members[i] = c
		w.hub.mu.Unlock()
		w.tabs = append(w.tabs, c)
	}
	return w
}

// login signs tab i in through a real BeginLogin/Callback round trip.
func (w *tabsWorld) login(t *testing.T, i int) {
	t.Helper()
	ctx := context.Background()
	authURL, err := w.tabs[i].BeginLogin(ctx, LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	w.op.mu.Lock()
	w.op.nonces["code-1"] = q.Get("nonce")
	w.op.mu.Unlock()
	if _, err := w.tabs[i].Callback(ctx, "https://app.example.com/callback?code=code-1&state="+url.QueryEscape(q.Get("state"))); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTabsLoginIsSharedAndHandoffWorks(t *testing.T) {
	w := newTabsWorld(t, 4)
	w.login(t, 0)
	// Tabs open at login time receive the session broadcast.
	for i := 1; i < 4; i++ {
		i := i
		eventually(t, "tab "+strconv.Itoa(i)+" signed in by broadcast", w.tabs[i].Authenticated)
	}
	// A tab opened later asks the others (in-memory handoff, no storage).
	late := newTabsWorld(t, 1).tabs[0] // separate world: prove it is not signed in by itself
	if late.RestoreFromTabs(context.Background(), 50*time.Millisecond) {
		t.Fatal("a lone tab restored a session from nowhere")
	}
	w.hub.mu.Lock()
	w.hub.members = append(w.hub.members, nil)
	w.hub.mu.Unlock()
	c, err := NewClient(Config{Issuer: tabsIssuer, ClientID: "spa", RedirectURI: "https://app.example.com/callback", NoAutoRefresh: true},
		Deps{HTTP: w.op, Store: &MemoryTxStore{}, Now: w.clock.Now, SkipSignatureCheck: true, Tabs: &tabsMember{hub: w.hub, idx: 4}})
	if err != nil {
		t.Fatal(err)
	}
	w.hub.mu.Lock()
	w.hub.members[4] = c
	w.hub.mu.Unlock()
	if !c.RestoreFromTabs(context.Background(), time.Second) {
		t.Fatal("a new tab did not get the session from the open tabs")
	}
	if tok, _ := c.AccessToken(context.Background()); tok != "at-1" {
		t.Fatalf("handed-over access token = %q, want at-1", tok)
	}
}

func TestTabsOneRefreshForAllTabs(t *testing.T) {
	w := newTabsWorld(t, 4)
	w.login(t, 0)
	for i := 1; i < 4; i++ {
		eventually(t, "broadcast", w.tabs[i].Authenticated)
	}
	w.clock.Add(2 * time.Hour) // every tab's access token has expired
	var wg sync.WaitGroup
	got := make(chan string, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(tab int) {
			defer wg.Done()
			tok, err := w.tabs[tab].AccessToken(context.Background())
			if err != nil {
				t.Errorf("tab %d: %v", tab, err)
			}
			got <- tok
		}(i % 4)
	}
	wg.Wait()
	close(got)
	if n := w.op.refreshes.Load(); n != 1 {
		t.Fatalf("%d refresh requests for 4 tabs x 50 callers, want exactly 1", n)
	}
	for tok := range got {
		if tok != "at-2" {
			t.Fatalf("a caller got %q, want the refreshed at-2", tok)
		}
	}
}

func TestTabsLateMessageDoesNotSignOutAfterRotation(t *testing.T) {
	w := newTabsWorld(t, 2)
	w.login(t, 0)
	eventually(t, "broadcast", w.tabs[1].Authenticated)
	// Tab 1 will not hear tab 0's refresh result (message lost or late) ...
	w.hub.mu.Lock()
	w.hub.drop = func(to int, msg string) bool {
		return to == 1 && strings.Contains(msg, `"type":"session"`) && strings.Contains(msg, "at-2")
	}
	w.hub.mu.Unlock()
	w.clock.Add(2 * time.Hour)
	if tok, err := w.tabs[0].AccessToken(context.Background()); err != nil || tok != "at-2" {
		t.Fatalf("tab 0 refresh = %q, %v", tok, err)
	}
	w.hub.mu.Lock()
	w.hub.drop = nil
	w.hub.mu.Unlock()
	// ... so it tries the rotated-away refresh token, gets invalid_grant, asks the other tabs and
	// adopts their newer session instead of signing the user out.
	tok, err := w.tabs[1].AccessToken(context.Background())
	if err != nil || tok != "at-2" {
		t.Fatalf("tab 1 after rotation elsewhere = %q, %v; want at-2 from tab 0", tok, err)
	}
	if !w.tabs[1].Authenticated() {
		t.Fatal("tab 1 was signed out")
	}
}

func TestTabsLogoutSignsOutEveryTab(t *testing.T) {
	w := newTabsWorld(t, 4)
	var signedOut atomic.Int32
	for _, c := range w.tabs {
		c.deps.Emit = func(ev string, d map[string]any) {
			if ev == EventSignedOut && d["reason"] == "other_tab" {
				signedOut.Add(1)
			}
		}
	}
	w.login(t, 0)
	for i := 1; i < 4; i++ {
		eventually(t, "broadcast", w.tabs[i].Authenticated)
	}
	w.tabs[2].Logout(context.Background())
	for i := range w.tabs {
		i := i
		eventually(t, "tab "+strconv.Itoa(i)+" signed out", func() bool { return !w.tabs[i].Authenticated() })
	}
	eventually(t, "3 signedOut(other_tab) events", func() bool { return signedOut.Load() == 3 })
	// A session message still in flight from before the logout must not sign a tab back in.
	stale := share(&TokenSet{AccessToken: "at-old", TokenType: "Bearer", IDToken: "x.y.z", IssuedAt: w.clock.Now().Add(-time.Minute)})
	b, _ := json.Marshal(tabMessage{Type: msgSession, From: "someone", Session: stale})
	w.tabs[2].HandleTabMessage(string(b))
	if w.tabs[2].Authenticated() {
		t.Fatal("a stale session from before the logout signed the tab back in")
	}
}

func TestTabsIgnoreForeignAndMalformedMessages(t *testing.T) {
	w := newTabsWorld(t, 1)
	c := w.tabs[0]
	for _, m := range []string{"", "{", "[]", `{"type":"session","from":"x"}`, `{"type":"session","from":"x","session":{"access_token":"a","id_token":"bad"}}`,
		`{"type":"nonsense","from":"x"}`} {
		c.HandleTabMessage(m)
	}
	// A session for another client (aud) or issuer is refused.
	claims, _ := json.Marshal(map[string]any{"iss": tabsIssuer, "sub": "u", "aud": "other-client", "exp": 4e9, "iat": 1})
	idt := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	b, _ := json.Marshal(tabMessage{Type: msgSession, From: "x", Session: &sharedSession{AccessToken: "a", TokenType: "Bearer", IDToken: idt, IssuedAt: w.clock.Now().UnixMilli()}})
	c.HandleTabMessage(string(b))
	if c.Authenticated() {
		t.Fatal("adopted a malformed or foreign session")
	}
}

// Short-lived tokens (shorter than the 10 s expiry delta): a tab queued on the lock must take the
// session another tab just refreshed, not refresh again with the rotated-away refresh token.
func TestTabsShortLivedTokensOneRefresh(t *testing.T) {
	w := newTabsWorld(t, 4)
	w.op.mu.Lock()
	w.op.lifetime = 6 * time.Second
	w.op.mu.Unlock()
	w.login(t, 0)
	for i := 1; i < 4; i++ {
		eventually(t, "broadcast", w.tabs[i].Authenticated)
	}
	for period := 1; period <= 3; period++ {
		w.clock.Add(4 * time.Second) // inside the refresh margin (half of 6 s) of the current tokens
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func(tab int) {
				defer wg.Done()
				if _, err := w.tabs[tab].AccessToken(context.Background()); err != nil {
					t.Errorf("period %d tab %d: %v", period, tab, err)
				}
			}(i)
		}
		wg.Wait()
		if n := w.op.refreshes.Load(); n != int32(period) {
			t.Fatalf("after period %d: %d refresh requests, want %d (one per period for all tabs)", period, n, period)
		}
		if r := w.op.reuses.Load(); r != 0 {
			t.Fatalf("%d refresh-token reuses (invalid_grant)", r)
		}
	}
}
