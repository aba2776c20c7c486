package core

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		Issuer:      "https://op.example.com",
		ClientID:    "spa-client",
		RedirectURI: "https://app.example.com/callback",
		Scope:       "openid profile",
	}
}

// wantCode fails the test unless err is a *Error with the given code.
func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code %q", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *core.Error, want code %q", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %q (%v), want %q", e.Code, err, code)
	}
	return e
}

func TestConfigValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"https everything", func(c *Config) {}},
		{"issuer with path", func(c *Config) { c.Issuer = "https://op.example.com/realms/demo" }},
		{"issuer with trailing slash", func(c *Config) { c.Issuer = "https://op.example.com/" }},
		{"issuer with port", func(c *Config) { c.Issuer = "https://op.example.com:8443" }},
		{"http localhost issuer", func(c *Config) { c.Issuer = "http://localhost:9090" }},
		{"http LOCALHOST issuer", func(c *Config) { c.Issuer = "http://LOCALHOST:9090" }},
		{"http 127.0.0.1 issuer", func(c *Config) { c.Issuer = "http://127.0.0.1:9090" }},
		{"http [::1] issuer", func(c *Config) { c.Issuer = "http://[::1]:9090" }},
		{"http localhost redirect", func(c *Config) { c.RedirectURI = "http://localhost:8080/callback" }},
		{"http 127.0.0.1 redirect", func(c *Config) { c.RedirectURI = "http://127.0.0.1:8080/callback" }},
		{"http [::1] redirect", func(c *Config) { c.RedirectURI = "http://[::1]:8080/callback" }},
		{"redirect with query", func(c *Config) { c.RedirectURI = "https://app.example.com/callback?tenant=a" }},
		{"openid not first", func(c *Config) { c.Scope = "profile openid email" }},
		{"openid with extra spaces", func(c *Config) { c.Scope = "  profile   openid " }},
		{"post logout https", func(c *Config) { c.PostLogoutRedirectURI = "https://app.example.com/" }},
		{"post logout localhost", func(c *Config) { c.PostLogoutRedirectURI = "http://localhost:8080/" }},
		{"explicit durations", func(c *Config) { c.ClockSkew = time.Second; c.RefreshMargin = 2 * time.Minute }},
		{"resource origins", func(c *Config) { c.ResourceOrigins = []string{"https://api.example.com", "http://localhost:8080"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mod(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate(%+v) = %v, want nil", c, err)
			}
		})
	}
}

func TestConfigValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"missing issuer", func(c *Config) { c.Issuer = "" }},
		{"missing clientId", func(c *Config) { c.ClientID = "" }},
		{"missing redirectUri", func(c *Config) { c.RedirectURI = "" }},
		{"relative issuer", func(c *Config) { c.Issuer = "/op" }},
		{"issuer without scheme", func(c *Config) { c.Issuer = "op.example.com" }},
		{"issuer not a URL", func(c *Config) { c.Issuer = "https://op.example.com:port" }},
		{"http non-loopback issuer", func(c *Config) { c.Issuer = "http://op.example.com" }},
		{"http localhost lookalike issuer", func(c *Config) { c.Issuer = "http://localhost.example.com" }},
		{"http 10.0.0.1 issuer", func(c *Config) { c.Issuer = "http://10.0.0.1" }},
		{"http [::2] issuer", func(c *Config) { c.Issuer = "http://[::2]" }},
		{"ftp issuer", func(c *Config) { c.Issuer = "ftp://op.example.com" }},
		{"issuer with query", func(c *Config) { c.Issuer = "https://op.example.com?tenant=a" }},
		{"issuer with empty query", func(c *Config) { c.Issuer = "https://op.example.com/?" }},
		{"issuer with fragment", func(c *Config) { c.Issuer = "https://op.example.com#frag" }},
		{"issuer with empty fragment", func(c *Config) { c.Issuer = "https://op.example.com/#" }},
		{"issuer with userinfo", func(c *Config) { c.Issuer = "https://user@op.example.com" }},
		{"relative redirect", func(c *Config) { c.RedirectURI = "/callback" }},
		{"http non-loopback redirect", func(c *Config) { c.RedirectURI = "http://app.example.com/callback" }},
		{"custom scheme redirect", func(c *Config) { c.RedirectURI = "javascript:alert(1)" }},
		{"redirect with fragment", func(c *Config) { c.RedirectURI = "https://app.example.com/callback#x" }},
		{"redirect with empty fragment", func(c *Config) { c.RedirectURI = "https://app.example.com/callback#" }},
		{"http non-loopback post logout", func(c *Config) { c.PostLogoutRedirectURI = "http://app.example.com/" }},
		{"relative post logout", func(c *Config) { c.PostLogoutRedirectURI = "/bye" }},
		{"scope without openid", func(c *Config) { c.Scope = "profile email" }},
		{"scope with openid prefix only", func(c *Config) { c.Scope = "openidx profile" }},
		{"scope with OPENID upper-case", func(c *Config) { c.Scope = "OPENID" }},
		{"resource origin with path", func(c *Config) { c.ResourceOrigins = []string{"https://api.example.com/v1"} }},
		{"resource origin with query", func(c *Config) { c.ResourceOrigins = []string{"https://api.example.com?x=1"} }},
		{"resource origin with fragment", func(c *Config) { c.ResourceOrigins = []string{"https://api.example.com#x"} }},
		{"resource origin without scheme", func(c *Config) { c.ResourceOrigins = []string{"api.example.com"} }},
		{"resource origin scheme-relative", func(c *Config) { c.ResourceOrigins = []string{"//api.example.com"} }},
		{"resource origin ftp", func(c *Config) { c.ResourceOrigins = []string{"ftp://api.example.com"} }},
		{"resource origin userinfo", func(c *Config) { c.ResourceOrigins = []string{"https://user:pw@api.example.com"} }},
		{"resource origin empty", func(c *Config) { c.ResourceOrigins = []string{""} }},
		{"resource origin wildcard", func(c *Config) { c.ResourceOrigins = []string{"*"} }},
		{"second resource origin bad", func(c *Config) { c.ResourceOrigins = []string{"https://api.example.com", "https://api.example.com/x"} }},
		{"negative clock skew", func(c *Config) { c.ClockSkew = -time.Second }},
		{"negative refresh margin", func(c *Config) { c.RefreshMargin = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mod(&c)
			err := c.Validate()
			e := wantCode(t, err, CodeInvalidConfig)
			if e.Description == "" {
				t.Errorf("invalid_config error without a description")
			}
		})
	}
}

func TestConfigValidateDefaults(t *testing.T) {
	c := validConfig()
	c.Scope = ""
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Scope != "openid" {
		t.Errorf("default Scope = %q, want %q", c.Scope, "openid")
	}
	if c.ClockSkew != 30*time.Second {
		t.Errorf("default ClockSkew = %v, want 30s", c.ClockSkew)
	}
	if c.RefreshMargin != 60*time.Second {
		t.Errorf("default RefreshMargin = %v, want 60s", c.RefreshMargin)
	}
	c = validConfig()
	c.ClockSkew, c.RefreshMargin = 5*time.Second, 7*time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ClockSkew != 5*time.Second || c.RefreshMargin != 7*time.Second {
		t.Errorf("explicit durations changed to %v, %v", c.ClockSkew, c.RefreshMargin)
	}
}

func TestConfigValidateNormalizesResourceOrigins(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example.com", "https://api.example.com"},
		{"https://api.example.com/", "https://api.example.com"},
		{"https://API.Example.COM", "https://api.example.com"},
		{"HTTPS://api.example.com", "https://api.example.com"},
		{"https://api.example.com:443", "https://api.example.com"},
		{"http://localhost:80", "http://localhost"},
		{"https://api.example.com:8443", "https://api.example.com:8443"},
		{"http://api.example.com:443", "http://api.example.com:443"},
		{"https://api.example.com:80", "https://api.example.com:80"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://[::1]:443", "https://[::1]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := validConfig()
			c.ResourceOrigins = []string{tt.in}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if c.ResourceOrigins[0] != tt.want {
				t.Errorf("normalized %q to %q, want %q", tt.in, c.ResourceOrigins[0], tt.want)
			}
			got, err := NormalizeOrigin(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewClientDoesNotMutateCallerOrigins(t *testing.T) {
	origins := []string{"https://API.example.com:443"}
	cfg := validConfig()
	cfg.ResourceOrigins = origins
	c, err := NewClient(cfg, Deps{HTTP: doerFunc(nil), Store: &MemoryTxStore{}, SkipSignatureCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if origins[0] != "https://API.example.com:443" {
		t.Errorf("NewClient rewrote the caller's slice to %q", origins[0])
	}
	if got := c.Config().ResourceOrigins; !slices.Equal(got, []string{"https://api.example.com"}) {
		t.Errorf("client origins = %q", got)
	}
}

func TestNewClientRejects(t *testing.T) {
	bad := validConfig()
	bad.Issuer = "http://op.example.com"
	_, err := NewClient(bad, Deps{HTTP: doerFunc(nil), Store: &MemoryTxStore{}, SkipSignatureCheck: true})
	wantCode(t, err, CodeInvalidConfig)

	for name, d := range map[string]Deps{
		"no http":     {Store: &MemoryTxStore{}, SkipSignatureCheck: true},
		"no store":    {HTTP: doerFunc(nil), SkipSignatureCheck: true},
		"no verifier": {HTTP: doerFunc(nil), Store: &MemoryTxStore{}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(validConfig(), d)
			if err == nil || c != nil {
				t.Fatalf("NewClient = %v, %v; want an error", c, err)
			}
			if ErrorCode(err) == "" {
				t.Fatalf("error without code: %v", err)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true,
		"localhost.example.com": false, "example.com": false, "10.0.0.1": false, "0.0.0.0": false, "::": false,
		"": false, "169.254.0.1": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestOriginOf(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://api.example.com/path?q=1#f", "https://api.example.com", true},
		{"https://API.example.com:443/x", "https://api.example.com", true},
		{"http://localhost:8080/api/me", "http://localhost:8080", true},
		{"https://api.example.com@evil.com/", "https://evil.com", true},
		{"https://user:pw@api.example.com/", "https://api.example.com", true},
		{"ftp://api.example.com/", "", false},
		{"/relative", "", false},
		{"api.example.com", "", false},
		{"data:text/plain,hi", "", false},
	}
	for _, tt := range tests {
		got, err := OriginOf(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("OriginOf(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("OriginOf(%q) = %q, want an error", tt.in, got)
		}
	}
}
