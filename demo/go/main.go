//go:build js && wasm

// Command demo-go is the pkce-wasm demo written as a Go WebAssembly program: it uses package
// wasm/pkce (golang.org/x/oauth2 and net/http) instead of the JS bundle. The dev server serves it
// at /go/ (demo/go/index.html, which loads /pkce/wasm_exec.js and /pkce/demo-go.wasm through
// demo/go/loader.js); its redirect URI is <app origin>/go/callback.
//
// It keeps the JS demo's contract with the end-to-end tests (js/test/gowasm.test.mjs):
//
//	body[data-ready="true"]   initial rendering (callback handling included) is finished
//	#status[data-state]       "signed-in" | "signed-out"
//	#login #logout #call-api  buttons, shown/hidden by state
//	#claims                   ID-token claims JSON
//	#api-result[data-status]  HTTP status of the last GET /api/me and its body
//	#error[data-code]         "<code>: <message>" of the last error; hidden when none
//
// It never shows or logs a token: only ID-token claims and API responses.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/pkce"
)

// appConfig is GET /config.json, the JS API's options.
type appConfig struct {
	Issuer          string   `json:"issuer"`
	ClientID        string   `json:"clientId"`
	Scope           string   `json:"scope"`
	ResourceOrigins []string `json:"resourceOrigins"`
}

type app struct {
	origin string
	auth   *pkce.Client
	api    *http.Client
}

func main() {
	ctx := context.Background()
	a := &app{origin: locationString("origin")}
	if err := a.start(ctx); err != nil {
		showError(err)
	}
	a.render()
	setData(body(), "ready", "true")
	select {} // serve the click handlers for the life of the page
}

func (a *app) start(ctx context.Context) error {
	// This is a Go-WASM app: net/http is linked anyway, and under GOOS=js it uses fetch.
	res, err := http.Get(a.origin + "/config.json")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /config.json: HTTP %d", res.StatusCode)
	}
	var cfg appConfig
	if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil {
		return fmt.Errorf("GET /config.json: %w", err)
	}
	a.auth, err = pkce.New(pkce.Config{
		Issuer:   cfg.Issuer,
		ClientID: cfg.ClientID,
		Scope:    cfg.Scope,
		// This page has its own redirect and post-logout URIs (registered by the dev server).
		RedirectURI:           a.origin + "/go/callback",
		PostLogoutRedirectURI: a.origin + "/go/",
		ResourceOrigins:       cfg.ResourceOrigins,
	})
	if err != nil {
		return err
	}
	a.api = a.auth.HTTPClient(ctx)
	onClick("login", a.login)
	onClick("logout", a.logout)
	onClick("call-api", a.callAPI)

	if a.auth.IsCallback() || locationString("pathname") == "/go/callback" {
		returnTo, err := a.auth.HandleCallback(ctx)
		if !strings.HasPrefix(returnTo, "/go/") {
			returnTo = "/go/"
		}
		// Never leave code/state/error in the address bar or the history, success or failure.
		replaceURL(returnTo)
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *app) render() {
	signedIn := a.auth != nil && a.auth.Authenticated()
	status := byID("status")
	if signedIn {
		user := a.auth.User()
		who, _ := user["name"].(string)
		if who == "" {
			who, _ = user["sub"].(string)
		}
		setText(status, "Signed in as "+who)
		setData(status, "state", "signed-in")
		b, _ := json.MarshalIndent(user, "", "  ")
		setText(byID("claims"), string(b))
	} else {
		setText(status, "Signed out")
		setData(status, "state", "signed-out")
		setText(byID("claims"), "—")
	}
	setHidden(byID("login"), a.auth == nil || signedIn)
	setHidden(byID("logout"), a.auth == nil || !signedIn)
	setHidden(byID("call-api"), a.auth == nil)
}

func (a *app) login() {
	clearError()
	setBusy(true)
	// Navigates to the provider: the page unloads.
	if err := a.auth.Login(context.Background(), pkce.LoginOptions{ReturnTo: "/go/"}); err != nil {
		showError(err)
		setBusy(false)
	}
}

func (a *app) logout() {
	clearError()
	setBusy(true)
	if err := a.auth.Logout(context.Background(), pkce.LogoutOptions{ReturnTo: "/go/"}); err != nil {
		showError(err)
		setBusy(false)
		a.render()
	}
}

func (a *app) callAPI() {
	clearError()
	setBusy(true)
	defer setBusy(false)
	result, status := byID("api-result"), byID("api-status")
	setData(result, "status", "")
	setText(status, "…")
	res, err := a.api.Get(a.origin + "/api/me")
	if err != nil {
		setText(status, "failed")
		setText(result, "—")
		setData(result, "status", "error")
		showError(err)
		return
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	text := string(b)
	var v any
	if json.Unmarshal(b, &v) == nil {
		pretty, _ := json.MarshalIndent(v, "", "  ")
		text = string(pretty)
	} else if text == "" {
		text = "(empty body)"
	}
	setText(status, fmt.Sprintf("HTTP %d", res.StatusCode))
	setText(result, text)
	setData(result, "status", fmt.Sprint(res.StatusCode))
	a.render() // a 401 may have signed us out (invalid_grant on refresh)
}

// --- DOM helpers (safejs: a JS exception is an error here, not a panic) ---

func global(name string) safejs.Value {
	v, _ := safejs.Global().Get(name)
	return v
}

func locationString(prop string) string {
	v, err := global("location").Get(prop)
	if err != nil {
		return ""
	}
	s, _ := v.String()
	return s
}

func replaceURL(u string) {
	_, _ = global("history").Call("replaceState", nil, "", u)
}

func body() safejs.Value {
	v, _ := global("document").Get("body")
	return v
}

func byID(id string) safejs.Value {
	v, _ := global("document").Call("getElementById", id)
	return v
}

func setText(el safejs.Value, s string) { _ = el.Set("textContent", s) }

func setHidden(el safejs.Value, hidden bool) { _ = el.Set("hidden", hidden) }

func setData(el safejs.Value, key, value string) {
	if ds, err := el.Get("dataset"); err == nil {
		_ = ds.Set(key, value)
	}
}

func setBusy(busy bool) {
	for _, id := range []string{"login", "logout", "call-api"} {
		_ = byID(id).Set("disabled", busy)
	}
}

// onClick runs fn in a goroutine: a JS event handler must not block (fn does network I/O).
func onClick(id string, fn func()) {
	f, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		go fn()
		return nil
	})
	if err != nil {
		return
	}
	_, _ = byID(id).Call("addEventListener", "click", f)
}

func showError(err error) {
	code, msg := "error", err.Error()
	var pe *pkce.Error
	if errors.As(err, &pe) {
		code, msg = pe.Code, pe.Description
	}
	el := byID("error")
	setData(el, "code", code)
	setText(el, code+": "+msg)
	setHidden(el, false)
}

func clearError() {
	el := byID("error")
	setData(el, "code", "")
	setText(el, "")
	setHidden(el, true)
}
