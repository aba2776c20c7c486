package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsEnvFallback(t *testing.T) {
	t.Setenv("PKCE_APP_ADDR", "127.0.0.1:1111")
	t.Setenv("PKCE_OP_ADDR", "127.0.0.1:2222")
	t.Setenv("PKCE_APP_ORIGIN", "http://app.test:1111")
	t.Setenv("PKCE_ISSUER", "http://op.test:2222")
	f, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.appAddr != "127.0.0.1:1111" || f.opAddr != "127.0.0.1:2222" || f.appOrigin != "http://app.test:1111" || f.issuer != "http://op.test:2222" {
		t.Errorf("env not used: %+v", f)
	}
	f, err = parseFlags([]string{"-app-addr", ":3", "-issuer", "http://x:4", "-access-token-ttl", "30s", "-test-hooks", "-root", "/r"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.appAddr != ":3" || f.issuer != "http://x:4" || f.accessTokenTTL != 30*time.Second || !f.testHooks || f.root != "/r" {
		t.Errorf("flags do not override env: %+v", f)
	}
	if _, err := parseFlags([]string{"-access-token-ttl", "0s"}, io.Discard); err == nil {
		t.Error("zero TTL accepted")
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	for _, k := range []string{"PKCE_APP_ADDR", "PKCE_OP_ADDR", "PKCE_APP_ORIGIN", "PKCE_ISSUER"} {
		t.Setenv(k, "")
	}
	f, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.appAddr != "localhost:8080" || f.opAddr != "localhost:9090" || f.appOrigin != "" || f.issuer != "" ||
		f.accessTokenTTL != 5*time.Minute || f.testHooks || f.root != "." {
		t.Errorf("defaults: %+v", f)
	}
}

func TestConfigRejectsBadURLs(t *testing.T) {
	for _, c := range []Config{
		{AppOrigin: "http://localhost:1", Issuer: "http://localhost:2/oidc", AccessTokenTTL: time.Minute},
		{AppOrigin: "localhost:1", Issuer: "http://localhost:2", AccessTokenTTL: time.Minute},
		{AppOrigin: "http://localhost:1", Issuer: "http://localhost:2?x=1", AccessTokenTTL: time.Minute},
	} {
		if _, err := newDevServer(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
	c, err := Config{AppOrigin: "http://localhost:1/", Issuer: "http://localhost:2/", AccessTokenTTL: time.Minute}.normalize()
	if err != nil || c.AppOrigin != "http://localhost:1" || c.Issuer != "http://localhost:2" {
		t.Errorf("trailing slash: %+v, %v", c, err)
	}
}

// TestRun starts the real entry point on free ports, reads the banner, fetches discovery and
// /config.json, then cancels (as SIGINT/SIGTERM do) and expects a clean return.
func TestRun(t *testing.T) {
	for _, k := range []string{"PKCE_APP_ORIGIN", "PKCE_ISSUER"} {
		t.Setenv(k, "")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-app-addr", "127.0.0.1:0", "-op-addr", "127.0.0.1:0", "-root", testRoot(t)}, pw, io.Discard)
		pw.Close()
	}()

	banner := map[string]string{}
	sc := bufio.NewScanner(pr)
	line := regexp.MustCompile(`^\s+([a-zA-Z ]+):\s+(\S+)`)
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			banner[m[1]] = m[2]
		}
		if strings.Contains(sc.Text(), "test hooks:") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if banner["client id"] != clientID || banner["user"] != demoUser || banner["password"] != demoPassword ||
		!regexp.MustCompile(`^http://localhost:\d+/callback$`).MatchString(banner["redirect URI"]) {
		t.Fatalf("banner = %v", banner)
	}
	issuer := banner["issuer"]
	if !regexp.MustCompile(`^http://localhost:\d+$`).MatchString(issuer) {
		t.Fatalf("default issuer %q", issuer)
	}

	c := &http.Client{Timeout: 10 * time.Second}
	for _, u := range []string{issuer + "/.well-known/openid-configuration", strings.TrimSuffix(banner["app"], "/") + "/config.json"} {
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"`+issuer+`"`) {
			t.Errorf("%s: status %d, body %.200s", u, res.StatusCode, body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestPeekGrantTypeRestoresBody(t *testing.T) {
	body := "grant_type=refresh_token&refresh_token=" + strings.Repeat("x", 2*maxGrantPeek)
	req, _ := http.NewRequest(http.MethodPost, "http://op.test/oauth/token", strings.NewReader(body))
	if got := peekGrantType(req); got != "refresh_token" {
		t.Errorf("grant_type %q", got)
	}
	rest, err := io.ReadAll(req.Body)
	if err != nil || string(rest) != body {
		t.Errorf("body not restored: %d bytes of %d, %v", len(rest), len(body), err)
	}
}
