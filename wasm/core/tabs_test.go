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

// Cross-tab tests: several clients ("tabs") joined by an in-memory hub that delivers each message
// asynchronously in its own goroutine, like BroadcastChannel, against a fake provider that rotates
// refresh tokens and rejects reuse. The hub records every message, to show that no token crosses.

type tabsHub struct {
	mu      sync.Mutex
	members []*Client
	posted  []string
}

type tabsMember struct {
	hub *tabsHub
	idx int
}

func (m *tabsMember) Post(msg string) {
	m.hub.mu.Lock()
	members := append([]*Client(nil), m.hub.members...)
	m.hub.posted = append(m.hub.posted, msg)
	m.hub.mu.Unlock()
	for i, c := range members {
		if i == m.idx || c == nil {
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

// forgedSession is the session message of the former cross-tab handoff, with tokens that pass
// every check a tab could make on them (issuer, audience, fresh): any same-origin page can post it.
func forgedSession(t *testing.T, now time.Time) string {
	claims, _ := json.Marshal(map[string]any{"iss": tabsIssuer, "sub": "mallory", "aud": "spa",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix()})
	idt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims) + ".c2ln"
	b, err := json.Marshal(map[string]any{"type": "session", "from": "attacker", "session": map[string]any{
		"access_token": "at-forged", "token_type": "Bearer", "refresh_token": "rt-forged", "id_token": idt,
		"issued_at": now.Add(time.Minute).UnixMilli(), "expiry": now.Add(time.Hour).UnixMilli()}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTabsForgedSessionIsNotAdopted(t *testing.T) {
	w := newTabsWorld(t, 2)
	signedOut, fresh := w.tabs[0], w.tabs[1]
	w.login(t, 1)
	msg := forgedSession(t, w.clock.Now())
	signedOut.HandleTabMessage(msg)
	fresh.HandleTabMessage(msg)
	if signedOut.Authenticated() || signedOut.UserClaims() != nil {
		t.Fatal("a signed-out tab adopted a forged session")
	}
	if _, err := signedOut.AccessToken(context.Background()); ErrorCode(err) != CodeLoginRequired {
		t.Fatalf("signed-out tab AccessToken: err = %v, want login_required", err)
	}
	if tok, err := fresh.AccessToken(context.Background()); err != nil || tok != "at-1" {
		t.Fatalf("signed-in tab's token = %q, %v after a forged session; want its own at-1", tok, err)
	}
	if strings.Contains(string(fresh.UserClaims()), "mallory") {
		t.Fatal("a signed-in tab took the forged user")
	}
}

// The session query of the former handoff gets no answer: a page that asks learns nothing.
func TestTabsQueryIsNotAnswered(t *testing.T) {
	w := newTabsWorld(t, 1)
	w.login(t, 0)
	w.tabs[0].HandleTabMessage(`{"type":"query","from":"attacker"}`)
	time.Sleep(20 * time.Millisecond) // Post delivers in goroutines; nothing should be posted at all
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	if len(w.hub.posted) != 0 {
		t.Fatalf("a query was answered: %q", w.hub.posted)
	}
}

// No token ever crosses between tabs: sign-in, refresh and sign-out post only the logout signal.
func TestTabsNoTokenCrosses(t *testing.T) {
	w := newTabsWorld(t, 2)
	w.login(t, 0)
	w.clock.Add(2 * time.Hour)
	if tok, err := w.tabs[0].AccessToken(context.Background()); err != nil || tok != "at-2" {
		t.Fatalf("refresh: %q, %v", tok, err)
	}
	if w.tabs[1].Authenticated() {
		t.Fatal("the other tab got the session")
	}
	w.tabs[0].Logout(context.Background())
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	if len(w.hub.posted) != 1 {
		t.Fatalf("posted %d messages, want only the logout signal: %q", len(w.hub.posted), w.hub.posted)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(w.hub.posted[0]), &m); err != nil || len(m) != 2 || m["type"] != "logout" || m["from"] == "" {
		t.Fatalf("posted %q, want {\"type\":\"logout\",\"from\":…}", w.hub.posted[0])
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
	for i := range w.tabs {
		w.login(t, i)
	}
	w.tabs[2].Logout(context.Background())
	for i := range w.tabs {
		i := i
		eventually(t, "tab "+strconv.Itoa(i)+" signed out", func() bool { return !w.tabs[i].Authenticated() })
	}
	eventually(t, "3 signedOut(other_tab) events", func() bool { return signedOut.Load() == 3 })
}

// A forged logout signal signs the tab out: the worst a same-origin page can do with the channel.
func TestTabsForgedLogoutSignsOut(t *testing.T) {
	w := newTabsWorld(t, 1)
	var reason any
	w.tabs[0].deps.Emit = func(ev string, d map[string]any) {
		if ev == EventSignedOut {
			reason = d["reason"]
		}
	}
	w.login(t, 0)
	w.tabs[0].HandleTabMessage(`{"type":"logout","from":"attacker"}`)
	if w.tabs[0].Authenticated() {
		t.Fatal("a logout signal did not sign the tab out")
	}
	if reason != "other_tab" {
		t.Fatalf("signedOut reason = %v, want other_tab", reason)
	}
}

func TestTabsIgnoreOwnEchoAndMalformedMessages(t *testing.T) {
	w := newTabsWorld(t, 1)
	c := w.tabs[0]
	w.login(t, 0)
	own, _ := json.Marshal(struct {
		Type string `json:"type"`
		From string `json:"from"`
	}{msgLogout, c.tabID})
	for _, m := range []string{
		string(own), // our own signal, echoed back
		"", "{", "[]", "null", `"logout"`,
		`{"type":"logout"}`,
		`{"type":"logout","from":""}`,
		`{"type":"logout","from":1}`,
		`{"type":"LOGOUT","from":"x"}`,
		`{"type":"logout","from":"x","session":{"access_token":"a"}}`,
		`{"type":"logout","from":"x","extra":1}`,
		`{"type":"logout","from":"x","type":"logout"}`,
		`{"type":"logout","from":"x","TYPE":"session"}`,
		`{"type":"logout","from":"x"} {}`,
		`{"type":"nonsense","from":"x"}`,
		`{"type":"session","from":"x"}`,
	} {
		c.HandleTabMessage(m)
		if !c.Authenticated() {
			t.Fatalf("message %q signed the tab out", m)
		}
	}
}
