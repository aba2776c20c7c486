package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// devServer is the wired dev server: two http.Servers, not yet serving.
type devServer struct {
	cfg       Config
	app       *http.Server // app origin
	op        *http.Server // issuer origin
	provider  *op.Provider
	stats     *opStats    // nil without test hooks
	misbehave *misbehaver // nil without test hooks
	issued    *issuedLog  // nil without test hooks
	inject    *injector   // nil without test hooks
	sso       *ssoStore
	dpop      *dpopOP
}

func newDevServer(c Config) (*devServer, error) {
	c, err := c.normalize()
	if err != nil {
		return nil, err
	}
	st := newDevStorage(c)
	dpop := newDPoPOP(st)
	provider, err := newProvider(c, st, op.WithHttpInterceptors(dpop.interceptor))
	if err != nil {
		return nil, err
	}
	dpop.init(c, provider)
	s := &devServer{cfg: c, provider: provider, dpop: dpop}

	s.sso = newSSOStore(c)
	opH := opHandler(provider, newLoginPage(st.inner, provider, s.sso))
	opH = s.sso.middleware(provider.EndSessionEndpoint().Relative(), opH)
	if c.TestHooks {
		s.stats = newOPStats(provider.TokenEndpoint().Relative())
		if s.misbehave, err = newMisbehaver(c, provider, st); err != nil {
			return nil, err
		}
		opH = s.stats.middleware(s.misbehave.middleware(opH))
		s.issued = newIssuedLog(provider.TokenEndpoint().Relative())
		opH = s.issued.middleware(opH)
		// The OP origin's own hooks, outside the stats: fetching them is not counted.
		opMux := http.NewServeMux()
		opMux.Handle("/__test/issued", s.issued.handler())
		opMux.Handle("/__test/issued/", s.issued.handler())
		opMux.Handle("/__test/dpop-nonce", nonceHook(dpop.nonce))
		opMux.Handle("/__test/sso", s.sso.handler())
		opMux.Handle("/__test/sso/", s.sso.handler())
		opMux.Handle("/", opH)
		opH = opMux
	}

	api := newProtectedAPI(c, provider.KeysEndpoint().Absolute(c.Issuer))
	if c.DPoPNonce {
		if _, err := dpop.nonce.set(true); err != nil {
			return nil, err
		}
		if _, err := api.nonce.set(true); err != nil {
			return nil, err
		}
	}
	app := http.NewServeMux()
	app.Handle("/config.json", configHandler(c))
	app.HandleFunc("/api/me", api.me)
	app.HandleFunc("/api/echo", echo)
	if c.TestHooks {
		s.inject = newInjector()
		s.inject.register(app)           // inject.go: the injected-script suite's hostile script and its record
		registerLifecycleHooks(app, api) // lifecycle_hooks.go
		app.Handle("/__test/dpop-nonce", nonceHook(api.nonce))
	}
	if s.stats != nil {
		app.Handle("/__test/", s.stats.handler())
		app.Handle("/__test/reset", s.misbehave.withReset(alsoOnReset(s.stats.handler(),
			s.issued.reset, s.sso.clear, s.inject.reset,
			func() { _, _ = dpop.nonce.set(c.DPoPNonce) },
			func() { _, _ = api.nonce.set(c.DPoPNonce) })))
		app.Handle("/__test/misbehave", s.misbehave.handler())
		app.HandleFunc("/api/redirect", crossOriginRedirect)
	}
	if c.TestHooks {
		registerBenchHooks(app, c) // bench_hooks.go: `make bench` pages, /api/blob
	}
	registerStatic(app, c.Root)

	var appH http.Handler = app
	if c.TestHooks {
		reqs := &requestLog{} // requestlog.go: what reached /api/*, for the browser tests
		reqs.register(app)
		appH = s.inject.middleware(reqs.middleware(app))
	}
	s.app = newHTTPServer(logRequests("app", appH))
	s.op = newHTTPServer(logRequests("op", opH))
	return s, nil
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
}

// shutdown stops both servers gracefully (in-flight requests finish, up to ctx).
func (s *devServer) shutdown(ctx context.Context) error {
	return errors.Join(s.app.Shutdown(ctx), s.op.Shutdown(ctx))
}

func (s *devServer) printBanner(w io.Writer, appAddr, opAddr net.Addr) {
	c := s.cfg
	hooks := "off"
	if c.TestHooks {
		hooks = "on (" + c.AppOrigin + "/__test/stats, POST /__test/reset)"
	}
	fmt.Fprintf(w, `pkce-wasm dev server
  app:          %s/            (listening on %s)
  issuer:       %s   (listening on %s)
  client id:    %s
  redirect URI: %s
  user:         %s
  password:     %s
  token TTL:    %s
  SSO session:  %s (cookie %s on the issuer origin)
  DPoP:         ES256 proofs accepted at the token endpoint and /api/me; nonces %s
  test hooks:   %s
`, c.AppOrigin, appAddr, c.Issuer, opAddr, clientID, c.RedirectURI(), demoUser, demoPassword, c.AccessTokenTTL,
		c.SSOTTL, ssoCookieName, onOff(c.DPoPNonce), hooks)
	for _, p := range []string{filepath.Join(c.Root, "demo", "index.html"), filepath.Join(c.Root, "js", "dist", "pkce-wasm.js")} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(w, "  warning:      %s not found (run from the repo root, set -root, or build the bundle)\n", p)
		}
	}
}

// logRequests logs method, path, status and duration. Never the query string or headers: they
// carry codes, states and tokens.
func logRequests(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		slog.InfoContext(r.Context(), name, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func onOff(b bool) string {
	if b {
		return "required"
	}
	return "off"
}
