// Command server is the pkce-wasm dev server (docs/architecture.md, "Dev server").
//
// It runs two HTTP listeners:
//
//   - the app origin (-app-addr): the demo SPA, the JS/WASM bundle under /pkce/, /config.json,
//     a protected API (/api/me), a CORS echo (/api/echo) and, with -test-hooks, /__test/*;
//   - the issuer origin (-op-addr): a real OpenID Provider (github.com/zitadel/oidc/v3/pkg/op)
//     with an in-memory store, one public PKCE client and a small login page.
//
// Usage, from the repo root:
//
//	go run ./server [-app-addr localhost:8080] [-op-addr localhost:9090] [-test-hooks]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Fixed identities of the dev setup (docs/architecture.md).
const (
	clientID     = "pkce-demo"
	demoScope    = "openid profile email offline_access"
	demoUser     = "test-user@localhost"
	demoPassword = "verysecure"
	apiRealm     = "pkce-wasm-demo"
)

const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		stop()
		var usage usageError
		switch {
		case errors.Is(err, flag.ErrHelp):
			return
		case errors.As(err, &usage): // the flag package has printed the message and usage
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "pkce-wasm dev server:", err)
		os.Exit(1)
	}
}

// usageError is a command-line error that the flag package has already reported.
type usageError struct{ error }

// flags holds the raw command line; env fallbacks are applied as flag defaults.
type flags struct {
	appAddr, opAddr   string
	appOrigin, issuer string
	accessTokenTTL    time.Duration
	ssoTTL            time.Duration
	dpopNonce         bool
	testHooks         bool
	root              string
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "pkce-wasm dev server: demo app, bundle and API, plus an embedded OpenID Provider.\n\nUsage: go run ./server [flags]\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.appAddr, "app-addr", envOr("PKCE_APP_ADDR", "localhost:8080"), "demo, bundle and API listen address (env PKCE_APP_ADDR)")
	fs.StringVar(&f.opAddr, "op-addr", envOr("PKCE_OP_ADDR", "localhost:9090"), "OpenID Provider listen address (env PKCE_OP_ADDR)")
	fs.StringVar(&f.appOrigin, "app-origin", os.Getenv("PKCE_APP_ORIGIN"), "origin used for redirect URIs (env PKCE_APP_ORIGIN; default http://localhost:<app port>)")
	fs.StringVar(&f.issuer, "issuer", os.Getenv("PKCE_ISSUER"), "OP issuer URL (env PKCE_ISSUER; default http://localhost:<op port>)")
	fs.DurationVar(&f.accessTokenTTL, "access-token-ttl", 5*time.Minute, "access/ID token lifetime")
	fs.DurationVar(&f.ssoTTL, "sso-ttl", defaultSSOTTL, "lifetime of the OP's SSO login session (cookie "+ssoCookieName+")")
	fs.BoolVar(&f.dpopNonce, "dpop-nonce", false, "require server-provided DPoP nonces (RFC 9449 §8, §9) at the token endpoint and /api/me from the start; with -test-hooks, POST /__test/dpop-nonce?on=0|1 on each origin switches it")
	fs.BoolVar(&f.testHooks, "test-hooks", false, "enable /__test/stats and /__test/reset on the app origin")
	fs.StringVar(&f.root, "root", ".", "repo root: serves <root>/demo at / and <root>/js/dist at /pkce/")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if f.ssoTTL <= 0 {
		return f, fmt.Errorf("-sso-ttl must be positive, got %s", f.ssoTTL)
	}
	if f.accessTokenTTL <= 0 {
		return f, fmt.Errorf("-access-token-ttl must be positive, got %s", f.accessTokenTTL)
	}
	return f, nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// run parses args, listens on both addresses, serves until ctx is done or a server fails, and
// shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))

	appLn, err := net.Listen("tcp", f.appAddr)
	if err != nil {
		return fmt.Errorf("listen -app-addr %q: %w", f.appAddr, err)
	}
	defer appLn.Close()
	opLn, err := net.Listen("tcp", f.opAddr)
	if err != nil {
		return fmt.Errorf("listen -op-addr %q: %w", f.opAddr, err)
	}
	defer opLn.Close()

	// Defaults follow the real ports, so ":0" works too.
	if f.appOrigin == "" {
		f.appOrigin = "http://localhost:" + listenPort(appLn)
	}
	if f.issuer == "" {
		f.issuer = "http://localhost:" + listenPort(opLn)
	}
	srv, err := newDevServer(Config{
		AppOrigin:      f.appOrigin,
		Issuer:         f.issuer,
		AccessTokenTTL: f.accessTokenTTL,
		SSOTTL:         f.ssoTTL,
		DPoPNonce:      f.dpopNonce,
		TestHooks:      f.testHooks,
		Root:           f.root,
	})
	if err != nil {
		return err
	}
	srv.printBanner(stdout, appLn.Addr(), opLn.Addr())

	errc := make(chan error, 2)
	go func() { errc <- srv.app.Serve(appLn) }()
	go func() { errc <- srv.op.Serve(opLn) }()

	var serveErr error
	select {
	case <-ctx.Done():
		slog.Info("shutting down")
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.shutdown(sctx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return shutdownErr
}

func listenPort(ln net.Listener) string {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return strconv.Itoa(a.Port)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
