package core

import (
	"encoding/json"
	"net/url"
	"os"
	"testing"
)

const cbRedirect = "https://app.example.com/callback"

func TestParseCallbackAccepts(t *testing.T) {
	tests := []struct {
		name     string
		redirect string
		raw      string
		want     CallbackParams
	}{
		{"code and state", cbRedirect, cbRedirect + "?code=abc&state=xyz",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"with iss", cbRedirect, cbRedirect + "?code=abc&state=xyz&iss=https%3A%2F%2Fop.example.com",
			CallbackParams{Code: "abc", State: "xyz", Iss: "https://op.example.com", HasIss: true}},
		{"empty iss is present", cbRedirect, cbRedirect + "?code=abc&state=xyz&iss=",
			CallbackParams{Code: "abc", State: "xyz", Iss: "", HasIss: true}},
		{"error response", cbRedirect, cbRedirect + "?error=access_denied&error_description=User+denied&state=xyz",
			CallbackParams{State: "xyz", Error: "access_denied", ErrorDescription: "User denied"}},
		{"extra params ignored", cbRedirect, cbRedirect + "?code=abc&state=xyz&session_state=s&foo=bar",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"unknown params ignored, even token-like ones", cbRedirect, cbRedirect + "?code=abc&state=xyz&expires_in=3600&scope=openid&id_token_hint=x#/route",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"default port explicit", cbRedirect, "https://app.example.com:443/callback?code=abc&state=xyz",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"upper-case host", cbRedirect, "https://APP.example.com/callback?code=abc&state=xyz",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"redirect registered with query", cbRedirect + "?tenant=a", cbRedirect + "?tenant=a&code=abc&state=xyz",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"fragment ignored", cbRedirect, cbRedirect + "?code=abc&state=xyz#code=evil&state=evil",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"loopback", "http://localhost:8080/callback", "http://localhost:8080/callback?code=abc&state=xyz",
			CallbackParams{Code: "abc", State: "xyz"}},
		{"root path redirect", "https://app.example.com", "https://app.example.com/?code=abc&state=xyz",
			CallbackParams{Code: "abc", State: "xyz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseCallback(tt.raw, tt.redirect)
			if err != nil {
				t.Fatalf("ParseCallback(%q): %v", tt.raw, err)
			}
			if *p != tt.want {
				t.Errorf("ParseCallback(%q) = %+v, want %+v", tt.raw, *p, tt.want)
			}
		})
	}
}

func TestParseCallbackRejects(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"wrong path", "https://app.example.com/other?code=abc&state=xyz"},
		{"path prefix", "https://app.example.com/callback/extra?code=abc&state=xyz"},
		{"trailing slash", "https://app.example.com/callback/?code=abc&state=xyz"},
		{"path case", "https://app.example.com/Callback?code=abc&state=xyz"},
		{"wrong host", "https://evil.example.com/callback?code=abc&state=xyz"},
		{"subdomain", "https://x.app.example.com/callback?code=abc&state=xyz"},
		{"wrong scheme", "http://app.example.com/callback?code=abc&state=xyz"},
		{"wrong port", "https://app.example.com:8443/callback?code=abc&state=xyz"},
		{"userinfo trick", "https://app.example.com@evil.example.com/callback?code=abc&state=xyz"},
		{"relative", "/callback?code=abc&state=xyz"},
		{"unparsable", "https://app.example.com:bad/callback?code=abc&state=xyz"},
		{"missing state", cbRedirect + "?code=abc"},
		{"empty state", cbRedirect + "?code=abc&state="},
		{"both code and error", cbRedirect + "?code=abc&error=access_denied&state=xyz"},
		{"neither code nor error", cbRedirect + "?state=xyz"},
		{"empty code", cbRedirect + "?code=&state=xyz"},
		{"duplicate code", cbRedirect + "?code=abc&code=def&state=xyz"},
		{"duplicate code, same value", cbRedirect + "?code=abc&code=abc&state=xyz"},
		{"duplicate state", cbRedirect + "?code=abc&state=xyz&state=uvw"},
		{"duplicate state, one empty", cbRedirect + "?code=abc&state=&state=xyz"},
		{"duplicate iss", cbRedirect + "?code=abc&state=xyz&iss=https%3A%2F%2Fop.example.com&iss=https%3A%2F%2Fevil.example"},
		{"duplicate error", cbRedirect + "?error=access_denied&error=server_error&state=xyz"},
		{"duplicate error_description", cbRedirect + "?error=access_denied&error_description=a&error_description=b&state=xyz"},
		{"response in fragment only", cbRedirect + "#code=abc&state=xyz"},
		{"bad query escaping", cbRedirect + "?code=abc&state=x%zz"},
		// We ask for response_type=code only: tokens in the answer are an implicit or hybrid
		// response we did not ask for (OIDC Core §3.3.2.5), refused rather than ignored.
		{"id_token", cbRedirect + "?code=abc&state=xyz&id_token=eyJ.eyJ.sig"},
		{"empty id_token", cbRedirect + "?code=abc&state=xyz&id_token="},
		{"access_token", cbRedirect + "?code=abc&state=xyz&access_token=at"},
		{"token_type", cbRedirect + "?code=abc&state=xyz&token_type=Bearer"},
		{"id_token with an error", cbRedirect + "?error=access_denied&state=xyz&id_token=x"},
		{"id_token in the fragment", cbRedirect + "?code=abc&state=xyz#id_token=eyJ.eyJ.sig"},
		{"access_token in the fragment", cbRedirect + "?code=abc&state=xyz#access_token=at&token_type=Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseCallback(tt.raw, cbRedirect)
			if err == nil {
				t.Fatalf("ParseCallback(%q) = %+v, want an error", tt.raw, *p)
			}
			wantCode(t, err, CodeInvalidCallback)
		})
	}
}

func TestCheckIssuerParamRFC9207(t *testing.T) {
	const iss = "https://op.example.com"
	tests := []struct {
		name      string
		supported bool
		p         CallbackParams
		wantErr   bool
	}{
		{"present and right, advertised", true, CallbackParams{Iss: iss, HasIss: true}, false},
		{"present and right, not advertised", false, CallbackParams{Iss: iss, HasIss: true}, false},
		{"present and wrong, advertised", true, CallbackParams{Iss: "https://evil.example", HasIss: true}, true},
		{"present and wrong, not advertised", false, CallbackParams{Iss: "https://evil.example", HasIss: true}, true},
		{"trailing slash differs", true, CallbackParams{Iss: iss + "/", HasIss: true}, true},
		{"present but empty", false, CallbackParams{Iss: "", HasIss: true}, true},
		{"missing but required", true, CallbackParams{}, true},
		{"missing, not advertised", false, CallbackParams{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkIssuerParam(&tt.p, &Metadata{Issuer: iss, AuthorizationResponseIssSupported: tt.supported})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("checkIssuerParam: %v", err)
				}
				return
			}
			wantCode(t, err, CodeIssuerMismatch)
		})
	}
}

// TestIsCallbackURL runs the vectors shared with the JavaScript PkceWasm.isCallback tests.
func TestIsCallbackURL(t *testing.T) {
	b, err := os.ReadFile("testdata/iscallback.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Name     string `json:"name"`
		URL      string `json:"url"`
		Callback bool   `json:"callback"`
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 12 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, v := range vectors {
		if got := IsCallbackURL(v.URL); got != v.Callback {
			t.Errorf("%s: IsCallbackURL(%q) = %v, want %v", v.Name, v.URL, got, v.Callback)
		}
	}
}

// Every URL IsCallbackURL accepts with a non-empty state and exactly one of code and error is
// also one ParseCallback reads (given the right redirect URI); the empty-value ones are rejected
// with invalid_callback rather than ignored.
func TestIsCallbackURLEmptyValuesReachParseCallback(t *testing.T) {
	for _, raw := range []string{cbRedirect + "?state=&code=x", cbRedirect + "?state=xyz&code=", cbRedirect + "?state&error"} {
		if !IsCallbackURL(raw) {
			t.Errorf("IsCallbackURL(%q) = false", raw)
		}
		_, err := ParseCallback(raw, cbRedirect)
		wantCode(t, err, CodeInvalidCallback)
	}
}

func TestCleanCallbackURL(t *testing.T) {
	tests := []struct {
		name, raw string
		wantPath  string
		wantQuery url.Values
		wantFrag  string
	}{
		{"only response params", cbRedirect + "?code=abc&state=xyz&iss=https%3A%2F%2Fop&session_state=s",
			"/callback", url.Values{}, ""},
		{"error response", cbRedirect + "?error=access_denied&error_description=no&error_uri=https%3A%2F%2Fx&state=xyz",
			"/callback", url.Values{}, ""},
		{"keeps other params", cbRedirect + "?tenant=a&code=abc&lang=de&state=xyz&tags=1&tags=2",
			"/callback", url.Values{"tenant": {"a"}, "lang": {"de"}, "tags": {"1", "2"}}, ""},
		{"keeps escaped values", cbRedirect + "?next=%2Fa%3Fb%3Dc&code=abc&state=xyz",
			"/callback", url.Values{"next": {"/a?b=c"}}, ""},
		{"keeps fragment", cbRedirect + "?code=abc&state=xyz#section-2",
			"/callback", url.Values{}, "section-2"},
		{"nothing to clean", "https://app.example.com/page?x=1",
			"/page", url.Values{"x": {"1"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CleanCallbackURL(tt.raw)
			u := parseURLOrFatal(t, got)
			if u.Scheme != "https" || u.Host != "app.example.com" || u.Path != tt.wantPath || u.Fragment != tt.wantFrag {
				t.Errorf("CleanCallbackURL(%q) = %q", tt.raw, got)
			}
			diffValues(t, u.Query(), tt.wantQuery)
			if len(tt.wantQuery) == 0 && u.RawQuery != "" {
				t.Errorf("CleanCallbackURL(%q) = %q: left a query", tt.raw, got)
			}
			if IsCallbackURL(got) {
				t.Errorf("cleaned URL %q still looks like a callback", got)
			}
		})
	}
}
