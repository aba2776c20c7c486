package core

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const discIssuer = "https://op.example.com"

func discoveryDoc(mod func(m map[string]any)) map[string]any {
	m := map[string]any{
		"issuer":                                "https://op.example.com",
		"authorization_endpoint":                "https://op.example.com/authorize",
		"token_endpoint":                        "https://op.example.com/oauth/token",
		"jwks_uri":                              "https://op.example.com/keys",
		"userinfo_endpoint":                     "https://op.example.com/userinfo",
		"end_session_endpoint":                  "https://op.example.com/end_session",
		"revocation_endpoint":                   "https://op.example.com/revoke",
		"response_types_supported":              []string{"code", "id_token"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	if mod != nil {
		mod(m)
	}
	return m
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMetadataValid(t *testing.T) {
	body := mustJSON(t, discoveryDoc(func(m map[string]any) { m["authorization_response_iss_parameter_supported"] = true }))
	m, err := ParseMetadata(body, discIssuer)
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	if m.Issuer != discIssuer || m.AuthorizationEndpoint != "https://op.example.com/authorize" ||
		m.TokenEndpoint != "https://op.example.com/oauth/token" || m.JWKSURI != "https://op.example.com/keys" ||
		m.EndSessionEndpoint != "https://op.example.com/end_session" || !m.AuthorizationResponseIssSupported {
		t.Errorf("metadata = %+v", m)
	}
	if len(m.IDTokenSigningAlgValuesSupported) != 1 || m.IDTokenSigningAlgValuesSupported[0] != "RS256" {
		t.Errorf("algs = %v", m.IDTokenSigningAlgValuesSupported)
	}
}

func TestParseMetadataAccepts(t *testing.T) {
	tests := []struct {
		name   string
		issuer string
		mod    func(m map[string]any)
	}{
		{"optional lists absent", discIssuer, func(m map[string]any) {
			delete(m, "code_challenge_methods_supported")
			delete(m, "response_types_supported")
		}},
		{"optional endpoints absent", discIssuer, func(m map[string]any) {
			for _, k := range []string{"jwks_uri", "userinfo_endpoint", "end_session_endpoint", "revocation_endpoint"} {
				delete(m, k)
			}
		}},
		{"loopback http provider", "http://localhost:9090", func(m map[string]any) {
			m["issuer"] = "http://localhost:9090"
			for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint", "revocation_endpoint"} {
				m[k] = strings.Replace(m[k].(string), "https://op.example.com", "http://localhost:9090", 1)
			}
		}},
		{"issuer with trailing slash on both sides", discIssuer + "/", func(m map[string]any) { m["issuer"] = discIssuer + "/" }},
		{"endpoint with query", discIssuer, func(m map[string]any) { m["authorization_endpoint"] = "https://op.example.com/authorize?tenant=t" }},
		{"unknown members", discIssuer, func(m map[string]any) { m["x_vendor"] = map[string]any{"a": []int{1}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseMetadata(mustJSON(t, discoveryDoc(tt.mod)), tt.issuer); err != nil {
				t.Fatalf("ParseMetadata: %v", err)
			}
		})
	}
}

func TestParseMetadataRejects(t *testing.T) {
	valid := string(mustJSON(t, discoveryDoc(nil)))
	doc := func(mod func(m map[string]any)) string { return string(mustJSON(t, discoveryDoc(mod))) }
	tests := []struct {
		name string
		body string
	}{
		{"issuer mismatch", doc(func(m map[string]any) { m["issuer"] = "https://evil.example.com" })},
		{"issuer trailing slash added", doc(func(m map[string]any) { m["issuer"] = discIssuer + "/" })},
		{"issuer case differs", doc(func(m map[string]any) { m["issuer"] = "https://OP.example.com" })},
		{"issuer with path", doc(func(m map[string]any) { m["issuer"] = discIssuer + "/tenant" })},
		{"issuer missing", doc(func(m map[string]any) { delete(m, "issuer") })},
		{"issuer not a string", doc(func(m map[string]any) { m["issuer"] = 42 })},
		{"authorization_endpoint missing", doc(func(m map[string]any) { delete(m, "authorization_endpoint") })},
		{"token_endpoint missing", doc(func(m map[string]any) { delete(m, "token_endpoint") })},
		{"token_endpoint empty", doc(func(m map[string]any) { m["token_endpoint"] = "" })},
		{"authorization_endpoint http", doc(func(m map[string]any) { m["authorization_endpoint"] = "http://op.example.com/authorize" })},
		{"token_endpoint http", doc(func(m map[string]any) { m["token_endpoint"] = "http://op.example.com/token" })},
		{"jwks_uri http", doc(func(m map[string]any) { m["jwks_uri"] = "http://op.example.com/keys" })},
		{"end_session_endpoint http", doc(func(m map[string]any) { m["end_session_endpoint"] = "http://op.example.com/logout" })},
		{"userinfo_endpoint http", doc(func(m map[string]any) { m["userinfo_endpoint"] = "http://op.example.com/userinfo" })},
		{"revocation_endpoint http", doc(func(m map[string]any) { m["revocation_endpoint"] = "http://op.example.com/revoke" })},
		{"token_endpoint relative", doc(func(m map[string]any) { m["token_endpoint"] = "/oauth/token" })},
		{"token_endpoint javascript", doc(func(m map[string]any) { m["token_endpoint"] = "javascript:alert(1)" })},
		{"S256 missing", doc(func(m map[string]any) { m["code_challenge_methods_supported"] = []string{"plain"} })},
		{"S256 lower-case", doc(func(m map[string]any) { m["code_challenge_methods_supported"] = []string{"s256"} })},
		{"code_challenge_methods empty", doc(func(m map[string]any) { m["code_challenge_methods_supported"] = []string{} })},
		{"response_type code missing", doc(func(m map[string]any) { m["response_types_supported"] = []string{"id_token", "code id_token"} })},
		{"code_challenge_methods not a list", doc(func(m map[string]any) { m["code_challenge_methods_supported"] = "S256" })},
		{"not JSON", "<html><body>Not Found</body></html>"},
		{"empty", ""},
		{"whitespace", "  \n "},
		{"JSON null", "null"},
		{"JSON string", `"https://op.example.com"`},
		{"JSON array", "[" + valid + "]"},
		{"truncated", valid[:len(valid)-1]},
		{"trailing garbage", valid + "garbage"},
		{"trailing second object", valid + valid},
		{"trailing close brace", valid + "}"},
		{"trailing close bracket", valid + "]"},
		{"oversized", strings.Replace(valid, "{", "{\"pad\":\""+strings.Repeat("a", 300<<10)+"\",", 1)},
		{"oversized whitespace", valid + strings.Repeat(" ", 257<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMetadata([]byte(tt.body), discIssuer)
			if err == nil {
				t.Fatalf("ParseMetadata accepted %.80q: %+v", tt.body, m)
			}
			wantCode(t, err, CodeDiscoveryFailed)
			if m != nil {
				t.Errorf("metadata returned along with error")
			}
		})
	}
}

func TestParseMetadataIssuerMismatchMessageIsSanitized(t *testing.T) {
	body := mustJSON(t, discoveryDoc(func(m map[string]any) { m["issuer"] = "https://evil\x1b[31m.example\n" + strings.Repeat("x", 500) }))
	_, err := ParseMetadata(body, discIssuer)
	e := wantCode(t, err, CodeDiscoveryFailed)
	if strings.ContainsAny(e.Description, "\x1b\n") {
		t.Errorf("description carries control characters: %q", e.Description)
	}
	if len(e.Description) > 400 {
		t.Errorf("description is %d bytes long; server text must be trimmed", len(e.Description))
	}
}

func TestDiscoveryURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://op.example.com":              "https://op.example.com/.well-known/openid-configuration",
		"https://op.example.com/":             "https://op.example.com/.well-known/openid-configuration",
		"https://op.example.com/realms/demo":  "https://op.example.com/realms/demo/.well-known/openid-configuration",
		"https://op.example.com/realms/demo/": "https://op.example.com/realms/demo/.well-known/openid-configuration",
		"http://localhost:9090":               "http://localhost:9090/.well-known/openid-configuration",
	} {
		if got := DiscoveryURL(in); got != want {
			t.Errorf("DiscoveryURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientDiscover(t *testing.T) {
	t.Run("fetches once and caches", func(t *testing.T) {
		h := newHarness(t, nil)
		for i := 0; i < 3; i++ {
			m, err := h.client.Discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if m.Issuer != testIssuer {
				t.Fatalf("issuer = %q", m.Issuer)
			}
		}
		reqs := h.doer.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1", len(reqs))
		}
		if reqs[0].Method != "GET" || reqs[0].URL != testIssuer+"/.well-known/openid-configuration" {
			t.Errorf("request = %s %s", reqs[0].Method, reqs[0].URL)
		}
	})
	t.Run("failure is not cached", func(t *testing.T) {
		h := newHarness(t, nil)
		fail := true
		h.discovery = func() (*HTTPResponse, error) {
			if fail {
				return &HTTPResponse{Status: 503, Body: []byte("maintenance")}, nil
			}
			return nil, nil // default document
		}
		_, err := h.client.Discover(context.Background())
		wantCode(t, err, CodeDiscoveryFailed)
		fail = false
		if _, err := h.client.Discover(context.Background()); err != nil {
			t.Fatalf("second Discover: %v", err)
		}
		if n := len(h.doer.requests()); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
	for name, resp := range map[string]func() (*HTTPResponse, error){
		"network error": func() (*HTTPResponse, error) { return nil, errors.New("dial tcp: connection refused") },
		"404":           func() (*HTTPResponse, error) { return &HTTPResponse{Status: 404, Body: []byte("{}")}, nil },
		"html 200": func() (*HTTPResponse, error) {
			return &HTTPResponse{Status: 200, ContentType: "text/html", Body: []byte("<html></html>")}, nil
		},
		"mix-up: other issuer": func() (*HTTPResponse, error) {
			b, _ := json.Marshal(discoveryDoc(func(m map[string]any) { m["issuer"] = "https://attacker.example" }))
			return &HTTPResponse{Status: 200, Body: b}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.discovery = resp
			_, err := h.client.Discover(context.Background())
			wantCode(t, err, CodeDiscoveryFailed)
			// BeginLogin fails the same way and stores nothing.
			_, err = h.client.BeginLogin(context.Background(), LoginOptions{})
			wantCode(t, err, CodeDiscoveryFailed)
			if h.store.Len() != 0 {
				t.Errorf("%d transactions stored after failed discovery", h.store.Len())
			}
		})
	}
}
