package core

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func durPtr(d time.Duration) *time.Duration { return &d }

// The optional parameters against golang.org/x/oauth2's AuthCodeURL with the same values as
// SetAuthURLParam options (it has no repeated parameters, so resource is checked by hand).
func TestBuildAuthURLOptionalParamsMatchXOAuth2(t *testing.T) {
	p := AuthParams{ClientID: "spa-client", RedirectURI: "https://app.example.com/callback", Scope: "openid",
		State: "st", Nonce: "no", CodeChallenge: "cc",
		Audience: "https://api.example.com/", MaxAge: durPtr(300 * time.Second), ACRValues: "urn:mace:incommon:iap:silver mfa",
		Extra: map[string]string{"ui_locales": "de fr", "organization": "org_1&x=y"}}
	got, err := BuildAuthURL("https://op.example.com/authorize?tenant=t1", p)
	if err != nil {
		t.Fatal(err)
	}
	want := oracleAuthURL("https://op.example.com/authorize?tenant=t1", p,
		oauth2.SetAuthURLParam("audience", "https://api.example.com/"),
		oauth2.SetAuthURLParam("max_age", "300"),
		oauth2.SetAuthURLParam("acr_values", "urn:mace:incommon:iap:silver mfa"),
		oauth2.SetAuthURLParam("ui_locales", "de fr"),
		oauth2.SetAuthURLParam("organization", "org_1&x=y"))
	diffValues(t, parseURLOrFatal(t, got).Query(), parseURLOrFatal(t, want).Query())
}

func TestBuildAuthURLResourceIsRepeated(t *testing.T) {
	p := AuthParams{ClientID: "c", RedirectURI: "https://app.example.com/cb", Scope: "openid", State: "s", Nonce: "n", CodeChallenge: "cc",
		Resource: []string{"https://api.example.com/", "urn:example:resource"}, MaxAge: durPtr(0)}
	got, err := BuildAuthURL("https://op.example.com/authorize", p)
	if err != nil {
		t.Fatal(err)
	}
	q := parseURLOrFatal(t, got).Query()
	diffValues(t, url.Values{"resource": q["resource"], "max_age": q["max_age"]},
		url.Values{"resource": {"https://api.example.com/", "urn:example:resource"}, "max_age": {"0"}})
	for _, k := range []string{"audience", "acr_values"} {
		if _, ok := q[k]; ok {
			t.Errorf("unset %s was sent", k)
		}
	}
}

// Config sets the parameters for every login; LoginOptions override them for one, and the
// max_age in force is kept in the transaction for the callback.
func TestClientBeginLoginAuthOptions(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Audience = "https://api.example.com/"
		c.Resource = []string{"https://api.example.com/"}
		c.MaxAge = durPtr(10 * time.Minute)
		c.ACRValues = "urn:acr:silver"
		c.ExtraParams = map[string]string{"ui_locales": "de", "organization": "org_1"}
	})
	_, q := h.begin(LoginOptions{})
	diffValues(t, url.Values{"audience": q["audience"], "resource": q["resource"], "max_age": q["max_age"],
		"acr_values": q["acr_values"], "ui_locales": q["ui_locales"], "organization": q["organization"]},
		url.Values{"audience": {"https://api.example.com/"}, "resource": {"https://api.example.com/"}, "max_age": {"600"},
			"acr_values": {"urn:acr:silver"}, "ui_locales": {"de"}, "organization": {"org_1"}})

	_, q = h.begin(LoginOptions{Audience: "https://other.example.com/", Resource: []string{"urn:a", "urn:b"},
		MaxAge: durPtr(0), ACRValues: "urn:acr:gold", ExtraParams: map[string]string{"ui_locales": "fr"}})
	diffValues(t, url.Values{"audience": q["audience"], "resource": q["resource"], "max_age": q["max_age"],
		"acr_values": q["acr_values"], "ui_locales": q["ui_locales"], "organization": q["organization"]},
		url.Values{"audience": {"https://other.example.com/"}, "resource": {"urn:a", "urn:b"}, "max_age": {"0"},
			"acr_values": {"urn:acr:gold"}, "ui_locales": {"fr"}, "organization": {"org_1"}})
	enc, ok, _ := h.store.Take(txKey(q.Get("state")))
	tx, err := decodeTransaction(enc)
	if !ok || err != nil || tx.MaxAge == nil || *tx.MaxAge != 0 {
		t.Fatalf("transaction max_age = %v (%v, %s), want 0", tx, err, enc)
	}
}

func TestAuthOptionsRejected(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    AuthOptions
	}{
		{"relative resource", AuthOptions{Resource: []string{"/api"}}},
		{"resource with fragment", AuthOptions{Resource: []string{"https://api.example.com/#x"}}},
		{"resource with empty fragment", AuthOptions{Resource: []string{"https://api.example.com/#"}}},
		{"empty resource", AuthOptions{Resource: []string{""}}},
		{"second resource bad", AuthOptions{Resource: []string{"https://api.example.com/", "api"}}},
		{"negative max_age", AuthOptions{MaxAge: durPtr(-time.Second)}},
		{"fractional max_age", AuthOptions{MaxAge: durPtr(1500 * time.Millisecond)}},
		{"extra state", AuthOptions{ExtraParams: map[string]string{"state": "x"}}},
		{"extra STATE", AuthOptions{ExtraParams: map[string]string{"STATE": "x"}}},
		{"extra code_challenge", AuthOptions{ExtraParams: map[string]string{"code_challenge": "x"}}},
		{"extra redirect_uri", AuthOptions{ExtraParams: map[string]string{"redirect_uri": "https://evil.example/"}}},
		{"extra response_mode", AuthOptions{ExtraParams: map[string]string{"response_mode": "fragment"}}},
		{"extra request_uri", AuthOptions{ExtraParams: map[string]string{"request_uri": "urn:x"}}},
		{"extra dpop_jkt", AuthOptions{ExtraParams: map[string]string{"dpop_jkt": "x"}}},
		{"extra audience", AuthOptions{ExtraParams: map[string]string{"audience": "x"}}},
		{"extra resource", AuthOptions{ExtraParams: map[string]string{"resource": "https://api.example.com/"}}},
		{"extra empty name", AuthOptions{ExtraParams: map[string]string{"": "x"}}},
		{"extra control character", AuthOptions{ExtraParams: map[string]string{"ui_locales": "de\r\nx"}}},
		{"audience control character", AuthOptions{Audience: "a\nb"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// In the configuration: NewClient fails.
			cfg := validConfig()
			cfg.Audience, cfg.Resource, cfg.MaxAge, cfg.ExtraParams = tt.o.Audience, tt.o.Resource, tt.o.MaxAge, tt.o.ExtraParams
			_, err := NewClient(cfg, Deps{HTTP: doerFunc(nil), Store: &MemoryTxStore{}, SkipSignatureCheck: true})
			wantCode(t, err, CodeInvalidConfig)
			// For one login: BeginLogin fails and stores nothing.
			h := newHarness(t, nil)
			_, err = h.client.BeginLogin(context.Background(), LoginOptions{Audience: tt.o.Audience, Resource: tt.o.Resource,
				MaxAge: tt.o.MaxAge, ExtraParams: tt.o.ExtraParams})
			wantCode(t, err, CodeInvalidConfig)
			if h.store.Len() != 0 {
				t.Error("a transaction was stored for a refused login")
			}
		})
	}
	for _, name := range reservedParams {
		o := AuthOptions{ExtraParams: map[string]string{name: "x"}}
		if err := o.validate("login"); ErrorCode(err) != CodeInvalidConfig {
			t.Errorf("extraParams %q accepted", name)
		}
	}
}

// OIDC Core §3.1.3.7 step 13: with max_age requested, auth_time is required and must be recent.
func TestCallbackMaxAge(t *testing.T) {
	for _, tt := range []struct {
		name     string
		maxAge   *time.Duration
		authTime any // nil: absent; else seconds before now
		want     string
	}{
		{"no max_age, no auth_time", nil, nil, ""},
		{"max_age, no auth_time", durPtr(5 * time.Minute), nil, CodeInvalidIDToken},
		{"max_age, recent auth_time", durPtr(5 * time.Minute), 100, ""},
		{"max_age, auth_time just within skew", durPtr(5 * time.Minute), 300 + 29, ""},
		{"max_age, auth_time too old", durPtr(5 * time.Minute), 300 + 31, CodeInvalidIDToken},
		{"max_age, auth_time an hour ago", durPtr(5 * time.Minute), 3600, CodeInvalidIDToken},
		{"max_age 0, auth_time now", durPtr(0), 0, ""},
		{"max_age 0, auth_time a minute ago", durPtr(0), 60, CodeInvalidIDToken},
		{"max_age, auth_time a string", durPtr(5 * time.Minute), "100", CodeInvalidIDToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.codeResponse = func(form url.Values, g *grant) (*HTTPResponse, error) {
				return h.issue(issueOpts{nonce: g.nonce, claims: func(c map[string]any) {
					c["acr"] = "urn:acr:silver"
					switch v := tt.authTime.(type) {
					case int:
						c["auth_time"] = h.clock.Now().Unix() - int64(v)
					case string:
						c["auth_time"] = v
					}
				}}), nil
			}
			a, _ := h.begin(LoginOptions{MaxAge: tt.maxAge})
			_, err := h.client.HandleCallback(context.Background(), h.authorize(a))
			if tt.want != "" {
				wantCode(t, err, tt.want)
				if h.client.Authenticated() {
					t.Error("signed in anyway")
				}
				return
			}
			if err != nil {
				t.Fatalf("HandleCallback: %v", err)
			}
			if c := string(h.client.UserClaims()); !strings.Contains(c, `"acr":"urn:acr:silver"`) {
				t.Errorf("claims %s lack the acr", c)
			}
		})
	}
}
