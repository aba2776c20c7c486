package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is the resolved dev server configuration (flags with their defaults applied).
type Config struct {
	AppOrigin      string        // e.g. http://localhost:8080: redirect URIs, CORS, resourceOrigins
	Issuer         string        // e.g. http://localhost:9090: must be the URL the OP listener is reached at
	AccessTokenTTL time.Duration // lifetime of access and ID tokens
	SSOTTL         time.Duration // lifetime of the OP's SSO login session (0: defaultSSOTTL)
	DPoPNonce      bool          // start with DPoP nonces required at the token endpoint and the API
	TestHooks      bool          // serve /__test/* on the app origin
	Root           string        // repo root with demo/ and js/dist/
}

// defaultSSOTTL is the default lifetime of the OP's SSO login session (-sso-ttl).
const defaultSSOTTL = 10 * time.Minute

// normalize checks the URLs and strips a trailing slash.
func (c Config) normalize() (Config, error) {
	var err error
	if c.AppOrigin, err = originURL("-app-origin", c.AppOrigin); err != nil {
		return c, err
	}
	if c.Issuer, err = originURL("-issuer", c.Issuer); err != nil {
		return c, err
	}
	if c.AccessTokenTTL <= 0 {
		return c, fmt.Errorf("access token TTL must be positive, got %s", c.AccessTokenTTL)
	}
	if c.SSOTTL < 0 {
		return c, fmt.Errorf("SSO session TTL must not be negative, got %s", c.SSOTTL)
	}
	if c.SSOTTL == 0 {
		c.SSOTTL = defaultSSOTTL
	}
	if c.Root == "" {
		c.Root = "."
	}
	return c, nil
}

// originURL accepts scheme://host[:port] with an optional trailing "/". The OP is mounted at the
// root of its listener, so an issuer with a path is refused rather than silently mis-served.
func originURL(name, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", name, raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s %q: want http(s)://host[:port]", name, raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%s %q: must be an origin without path, query or fragment", name, raw)
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host, nil
}

// RedirectURI is the client's only registered redirect URI.
func (c Config) RedirectURI() string { return c.AppOrigin + "/callback" }

// PostLogoutRedirectURI is the client's only registered post-logout redirect URI.
func (c Config) PostLogoutRedirectURI() string { return c.AppOrigin + "/" }

// appConfigJSON is the body of GET /config.json: the options of PkceWasm.create.
type appConfigJSON struct {
	Issuer                string   `json:"issuer"`
	ClientID              string   `json:"clientId"`
	RedirectURI           string   `json:"redirectUri"`
	PostLogoutRedirectURI string   `json:"postLogoutRedirectUri"`
	Scope                 string   `json:"scope"`
	ResourceOrigins       []string `json:"resourceOrigins"`
}

// configHandler serves GET /config.json.
func configHandler(c Config) http.Handler {
	body, err := json.Marshal(appConfigJSON{
		Issuer:                c.Issuer,
		ClientID:              clientID,
		RedirectURI:           c.RedirectURI(),
		PostLogoutRedirectURI: c.PostLogoutRedirectURI(),
		Scope:                 demoScope,
		ResourceOrigins:       []string{c.AppOrigin},
	})
	if err != nil {
		panic(err) // static shape: cannot fail
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(body)
	})
}
