package core

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// oracleAuthURL is what golang.org/x/oauth2 builds for the same request.
func oracleAuthURL(endpoint string, p AuthParams, extra ...oauth2.AuthCodeOption) string {
	conf := &oauth2.Config{
		ClientID:    p.ClientID,
		RedirectURL: p.RedirectURI,
		Scopes:      strings.Fields(p.Scope),
		Endpoint:    oauth2.Endpoint{AuthURL: endpoint, TokenURL: "https://op.example.com/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	opts := append([]oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("code_challenge", p.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
		oauth2.SetAuthURLParam("nonce", p.Nonce),
	}, extra...)
	return conf.AuthCodeURL(p.State, opts...)
}

func parseURLOrFatal(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return u
}

func diffValues(t *testing.T, got, want url.Values) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(got))
	for k := range want {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("parameter %q = %q, want %q", k, got[k], want[k])
		}
	}
}

func TestBuildAuthURLMatchesXOAuth2(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		p        AuthParams
	}{
		{"plain", "https://op.example.com/authorize", AuthParams{
			ClientID: "spa-client", RedirectURI: "https://app.example.com/callback", Scope: "openid",
		}},
		{"several scopes", "https://op.example.com/oauth2/v1/authorize", AuthParams{
			ClientID: "spa-client", RedirectURI: "https://app.example.com/callback", Scope: "openid profile email offline_access",
		}},
		{"characters that need escaping", "https://op.example.com/authorize", AuthParams{
			ClientID: "client id/with+chars&=", RedirectURI: "http://localhost:8080/cb?x=1&y=a b", Scope: "openid urn:example:scope/read",
		}},
		{"endpoint with existing query", "https://op.example.com/authorize?tenant=t1&ui_locales=de", AuthParams{
			ClientID: "spa-client", RedirectURI: "https://app.example.com/callback", Scope: "openid profile",
		}},
		{"endpoint with repeated existing param", "https://op.example.com/authorize?x=1&x=2", AuthParams{
			ClientID: "spa-client", RedirectURI: "https://app.example.com/callback", Scope: "openid",
		}},
		{"loopback endpoint with port", "http://localhost:9090/oauth/v2/authorize", AuthParams{
			ClientID: "pkce-demo", RedirectURI: "http://localhost:8080/callback", Scope: "openid offline_access",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i < 20; i++ {
				p := tt.p
				var err error
				for _, s := range []*string{&p.State, &p.Nonce} {
					if *s, err = randomToken(nil, 32); err != nil {
						t.Fatal(err)
					}
				}
				v := oauth2.GenerateVerifier()
				p.CodeChallenge = S256Challenge(v)

				got, err := BuildAuthURL(tt.endpoint, p)
				if err != nil {
					t.Fatalf("BuildAuthURL: %v", err)
				}
				want := oracleAuthURL(tt.endpoint, p)
				// The oracle's own challenge option must agree with ours for the same verifier.
				want2 := (&oauth2.Config{ClientID: p.ClientID, RedirectURL: p.RedirectURI, Scopes: strings.Fields(p.Scope),
					Endpoint: oauth2.Endpoint{AuthURL: tt.endpoint, AuthStyle: oauth2.AuthStyleInParams}}).
					AuthCodeURL(p.State, oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", p.Nonce))

				gu, wu, wu2 := parseURLOrFatal(t, got), parseURLOrFatal(t, want), parseURLOrFatal(t, want2)
				if gu.Scheme != wu.Scheme || gu.Host != wu.Host || gu.Path != wu.Path {
					t.Fatalf("endpoint = %s://%s%s, want %s://%s%s", gu.Scheme, gu.Host, gu.Path, wu.Scheme, wu.Host, wu.Path)
				}
				diffValues(t, gu.Query(), wu.Query())
				diffValues(t, gu.Query(), wu2.Query())
				if t.Failed() {
					t.Fatalf("got  %s\nwant %s", got, want2)
				}
			}
		})
	}
}

func TestBuildAuthURLParameters(t *testing.T) {
	p := AuthParams{
		ClientID: "spa-client", RedirectURI: "https://app.example.com/callback", Scope: "openid profile",
		State: "st", Nonce: "nn", CodeChallenge: rfc7636Challenge,
	}
	got, err := BuildAuthURL("https://op.example.com/authorize", p)
	if err != nil {
		t.Fatal(err)
	}
	q := parseURLOrFatal(t, got).Query()
	want := url.Values{
		"response_type":         {"code"},
		"client_id":             {"spa-client"},
		"redirect_uri":          {"https://app.example.com/callback"},
		"scope":                 {"openid profile"},
		"state":                 {"st"},
		"nonce":                 {"nn"},
		"code_challenge":        {rfc7636Challenge},
		"code_challenge_method": {"S256"},
	}
	diffValues(t, q, want)
	for _, k := range []string{"prompt", "login_hint", "code_verifier", "client_secret", "response_mode"} {
		if q.Has(k) {
			t.Errorf("unexpected parameter %s=%q", k, q.Get(k))
		}
	}

	p.Prompt, p.LoginHint = "login", "user@example.com"
	got, err = BuildAuthURL("https://op.example.com/authorize", p)
	if err != nil {
		t.Fatal(err)
	}
	q = parseURLOrFatal(t, got).Query()
	want.Set("prompt", "login")
	want.Set("login_hint", "user@example.com")
	diffValues(t, q, want)
	oracle := parseURLOrFatal(t, oracleAuthURL("https://op.example.com/authorize", p,
		oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("login_hint", "user@example.com"))).Query()
	diffValues(t, q, oracle)
}

func TestBuildAuthURLRetainsEndpointQuery(t *testing.T) {
	// RFC 6749 §3.1: the endpoint URI "MAY include a query component, which MUST be retained when
	// adding additional query parameters".
	p := AuthParams{ClientID: "c", RedirectURI: "https://app.example.com/cb", Scope: "openid", State: "s", Nonce: "n", CodeChallenge: "x"}
	got, err := BuildAuthURL("https://op.example.com/authorize?tenant=t%201&flag&multi=a&multi=b", p)
	if err != nil {
		t.Fatal(err)
	}
	u := parseURLOrFatal(t, got)
	q := u.Query()
	if q.Get("tenant") != "t 1" {
		t.Errorf("tenant = %q, want %q", q.Get("tenant"), "t 1")
	}
	if !q.Has("flag") {
		t.Errorf("valueless parameter flag dropped: %s", got)
	}
	if !slices.Equal(q["multi"], []string{"a", "b"}) {
		t.Errorf("multi = %q, want [a b]", q["multi"])
	}
	if u.Path != "/authorize" || u.Host != "op.example.com" {
		t.Errorf("endpoint changed: %s", got)
	}
	if u.Fragment != "" {
		t.Errorf("fragment in auth URL: %s", got)
	}
}

func TestBuildAuthURLOursWinOverEndpointParams(t *testing.T) {
	// A provider cannot pre-set response_type, state or the challenge through its endpoint URL.
	p := AuthParams{ClientID: "c", RedirectURI: "https://app.example.com/cb", Scope: "openid", State: "s", Nonce: "n", CodeChallenge: "x"}
	got, err := BuildAuthURL("https://op.example.com/authorize?response_type=token&state=evil&code_challenge_method=plain&client_id=other", p)
	if err != nil {
		t.Fatal(err)
	}
	q := parseURLOrFatal(t, got).Query()
	for k, want := range map[string]string{"response_type": "code", "state": "s", "code_challenge_method": "S256", "client_id": "c"} {
		if !slices.Equal(q[k], []string{want}) {
			t.Errorf("%s = %q, want exactly [%q]", k, q[k], want)
		}
	}
}

func TestBuildAuthURLBadEndpoint(t *testing.T) {
	_, err := BuildAuthURL("https://op.example.com:bad/authorize", AuthParams{})
	wantCode(t, err, CodeDiscoveryFailed)
}
