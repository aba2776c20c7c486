//go:build js && wasm

package jsbridge

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

func TestReadConfigValid(t *testing.T) {
	b := newTestBridge(t)
	opts := jsEval(t, `{
		issuer: "https://op.example.com",
		clientId: "client-1",
		redirectUri: "https://app.example.com/callback",
		scope: "openid profile offline_access",
		resourceOrigins: ["https://api.example.com", "http://localhost:8080"],
		postLogoutRedirectUri: "https://app.example.com/",
		clockSkewSeconds: 5,
		refreshMarginSeconds: 1.5,
		exposeAccessToken: false,
	}`, nil)
	got, err := b.ReadConfig(opts)
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	want := core.Config{
		Issuer:                "https://op.example.com",
		ClientID:              "client-1",
		RedirectURI:           "https://app.example.com/callback",
		Scope:                 "openid profile offline_access",
		ResourceOrigins:       []string{"https://api.example.com", "http://localhost:8080"},
		PostLogoutRedirectURI: "https://app.example.com/",
		ClockSkew:             5 * time.Second,
		RefreshMargin:         1500 * time.Millisecond,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadConfigMinimal(t *testing.T) {
	b := newTestBridge(t)
	got, err := b.ReadConfig(jsEval(t, `{issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb"}`, nil))
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	want := core.Config{Issuer: "https://op.example.com", ClientID: "c", RedirectURI: "https://app.example.com/cb"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadConfig = %+v, want %+v (absent options stay zero)", got, want)
	}
}

func TestReadConfigInvalid(t *testing.T) {
	const base = `issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb"`
	for _, tc := range []struct {
		name, opts, mention string
	}{
		{"unknown key clientID", `{issuer: "https://op.example.com", clientID: "c", redirectUri: "https://app.example.com/cb"}`, `"clientID"`},
		{"unknown key among valid ones", `{` + base + `, resourceOrigin: ["https://api.example.com"]}`, `"resourceOrigin"`},
		{"issuer number", `{issuer: 42, clientId: "c", redirectUri: "https://app.example.com/cb"}`, "issuer"},
		{"clientId object", `{issuer: "https://op.example.com", clientId: {}, redirectUri: "https://app.example.com/cb"}`, "clientId"},
		{"scope array", `{` + base + `, scope: ["openid"]}`, "scope"},
		{"resourceOrigins string", `{` + base + `, resourceOrigins: "https://api.example.com"}`, "resourceOrigins"},
		{"resourceOrigins [1]", `{` + base + `, resourceOrigins: [1]}`, "resourceOrigins"},
		{"resourceOrigins mixed", `{` + base + `, resourceOrigins: ["https://api.example.com", null]}`, "resourceOrigins"},
		{"resourceOrigins array-like", `{` + base + `, resourceOrigins: {length: 1, 0: "https://api.example.com"}}`, "resourceOrigins"},
		{"clockSkewSeconds string", `{` + base + `, clockSkewSeconds: "x"}`, "clockSkewSeconds"},
		{"clockSkewSeconds numeric string", `{` + base + `, clockSkewSeconds: "30"}`, "clockSkewSeconds"},
		{"clockSkewSeconds negative", `{` + base + `, clockSkewSeconds: -1}`, "clockSkewSeconds"},
		{"clockSkewSeconds too large", `{` + base + `, clockSkewSeconds: 86401}`, "clockSkewSeconds"},
		{"clockSkewSeconds Infinity", `{` + base + `, clockSkewSeconds: Infinity}`, "clockSkewSeconds"},
		{"clockSkewSeconds NaN", `{` + base + `, clockSkewSeconds: NaN}`, "clockSkewSeconds"},
		{"refreshMarginSeconds boolean", `{` + base + `, refreshMarginSeconds: true}`, "refreshMarginSeconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBridge(t)
			cfg, err := b.ReadConfig(jsEval(t, tc.opts, nil))
			if err == nil {
				t.Fatalf("ReadConfig(%s) = %+v, nil; want invalid_config", tc.opts, cfg)
			}
			desc := wantCode(t, err, core.CodeInvalidConfig)
			if !strings.Contains(desc, tc.mention) {
				t.Errorf("description %q does not name %s", desc, tc.mention)
			}
		})
	}
}

func TestReadConfigNotAnObject(t *testing.T) {
	b := newTestBridge(t)
	for name, v := range map[string]safejs.Value{
		"undefined": safejs.Undefined(),
		"null":      safejs.Null(),
		"string":    jsEval(t, `"https://op.example.com"`, nil),
		"function":  jsEval(t, `function() {}`, nil),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := b.ReadConfig(v); err == nil {
				t.Fatalf("ReadConfig(%s) succeeded", name)
			} else {
				wantCode(t, err, core.CodeInvalidConfig)
			}
		})
	}
}

// Create validates the options before it looks at the host, and reports a host without a
// transaction store as storage_error.
func TestCreateErrors(t *testing.T) {
	b := newTestBridge(t)
	host := jsEval(t, `{store: {put() {}, take() { return null; }}, shared: true}`, nil)
	if _, err := b.Create(jsEval(t, `{issuer: "https://op.example.com", clientID: "c"}`, nil), host); err == nil {
		t.Fatal("Create accepted an unknown option")
	} else {
		wantCode(t, err, core.CodeInvalidConfig)
	}
	// Valid types but a config core rejects (http issuer on a non-loopback host).
	if _, err := b.Create(jsEval(t, `{issuer: "http://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb"}`, nil), host); err == nil {
		t.Fatal("Create accepted an http issuer")
	} else {
		wantCode(t, err, core.CodeInvalidConfig)
	}
	v, err := b.Create(jsEval(t, `{issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb"}`, nil), host)
	if err != nil {
		t.Fatalf("Create with a host: %v", err)
	}
	for _, m := range []string{"beginLogin", "callback", "prefetch", "isAuthenticated", "getUser", "getUserInfo", "fetch", "logout", "getSession"} {
		if f := prop(t, v, m); f.Type() != safejs.TypeFunction {
			t.Errorf("client.%s is %v, want a function", m, f.Type())
		}
	}
	// The escape hatch exists only when asked for.
	if f := prop(t, v, "getAccessToken"); !f.IsUndefined() {
		t.Errorf("client.getAccessToken exists without exposeAccessToken")
	}
	v, err = b.Create(jsEval(t, `{issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb", exposeAccessToken: true}`, nil), host)
	if err != nil {
		t.Fatalf("Create with exposeAccessToken: %v", err)
	}
	if f := prop(t, v, "getAccessToken"); f.Type() != safejs.TypeFunction {
		t.Errorf("client.getAccessToken is %v with exposeAccessToken", f.Type())
	}
}

func TestCreateWithoutStore(t *testing.T) {
	b := newTestBridge(t)
	for name, host := range map[string]safejs.Value{
		"no host":  safejs.Undefined(),
		"no store": jsEval(t, `{shared: true}`, nil),
	} {
		_, err := b.Create(jsEval(t, `{issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb"}`, nil), host)
		if err == nil {
			t.Fatalf("%s: Create succeeded", name)
		}
		if name == "no store" {
			wantCode(t, err, core.CodeStorageError)
		}
	}
}

// The authorization options pass through with their JS types checked; wrong types are
// invalid_config (their values are core's to check).
func TestReadConfigAuthOptions(t *testing.T) {
	b := newTestBridge(t)
	c, err := b.ReadConfig(jsEval(t, `{issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb",
		audience: "https://api.example.com", resource: ["https://a.example.com", "https://b.example.com"], maxAge: 300,
		acrValues: "urn:mace:incommon:iap:silver", extraParams: {ui_locales: "de"}}`, nil))
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	if c.Audience != "https://api.example.com" || len(c.Resource) != 2 || c.Resource[1] != "https://b.example.com" ||
		c.MaxAge == nil || *c.MaxAge != 300*time.Second || c.ACRValues != "urn:mace:incommon:iap:silver" || c.ExtraParams["ui_locales"] != "de" {
		t.Errorf("auth options = %+v", c)
	}
	c, err = b.ReadConfig(jsEval(t, `{issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb", resource: "https://a.example.com"}`, nil))
	if err != nil || len(c.Resource) != 1 {
		t.Errorf("one resource as a string: %v, %v", c.Resource, err)
	}
	for _, bad := range []string{`{resource: 5}`, `{resource: ["a", 1]}`, `{maxAge: "300"}`, `{maxAge: 1.5}`, `{maxAge: -1}`,
		`{extraParams: "x=y"}`, `{extraParams: {a: 1}}`, `{extraParams: ["a"]}`, `{audience: 1}`} {
		_, err := b.ReadConfig(jsEval(t, `Object.assign({issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb"}, `+bad+`)`, nil))
		if err == nil {
			t.Errorf("%s accepted", bad)
			continue
		}
		wantCode(t, err, core.CodeInvalidConfig)
	}
}

// A provider's error reaches JS with its raw value and HTTP status beside our code.
func TestToJSErrorCarriesProviderWords(t *testing.T) {
	b := newTestBridge(t)
	v := b.toJSError(&core.Error{Code: core.CodeProviderError, Description: "x", OAuthError: "foo_bar", Status: 400})
	if got := str(t, v, "code"); got != "provider_error" {
		t.Errorf("code = %q", got)
	}
	if got := str(t, v, "oauthError"); got != "foo_bar" {
		t.Errorf("oauthError = %q", got)
	}
	if got := num(t, v, "status"); got != 400 {
		t.Errorf("status = %d", got)
	}
	v = b.toJSError(&core.Error{Code: core.CodeInvalidConfig, Description: "ours"})
	if o := prop(t, v, "oauthError"); !o.IsUndefined() {
		t.Errorf("a library error has oauthError %v", o.Type())
	}
}
