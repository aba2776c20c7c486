package main

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	loginPath         = "/login"
	loginRequestParam = "authRequestID"
)

// loginAuthenticator is what the login page needs from the store (storage.Storage has it).
type loginAuthenticator interface {
	AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error)
	CheckUsernamePassword(username, password, id string) error
	DeleteAuthRequest(ctx context.Context, id string) error
}

// loginPage is the OP's user interface (the op package has none): the client's LoginURL sends
// the browser to GET /login?authRequestID=…; the form posts back to /login.
//
//   - "Sign in" checks the credentials; on success the auth request is marked done and the
//     browser goes to the OP's /authorize/callback, which redirects to the client with a code.
//   - "Deny" ends the request: the OP redirects to the client's redirect_uri with
//     error=access_denied and the original state (RFC 6749 §4.1.2.1).
type loginPage struct {
	store      loginAuthenticator
	authorizer op.Authorizer                        // for the error redirect
	callback   func(context.Context, string) string // op.AuthCallbackURL
	sso        *ssoStore                            // nil: no SSO sessions
}

func newLoginPage(store loginAuthenticator, p *op.Provider, sso *ssoStore) *loginPage {
	return &loginPage{store: store, authorizer: p, callback: op.AuthCallbackURL(p), sso: sso}
}

func (l *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// As real providers do: it cuts the popup off from its opener, so popup login must fall back
	// to BroadcastChannel (js/test/lifecycle.test.mjs exercises that path).
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		l.show(w, r)
	case http.MethodPost:
		l.submit(w, r)
	default:
		h.Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (l *loginPage) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(loginRequestParam)
	req, err := l.store.AuthRequestByID(r.Context(), id)
	if err != nil {
		renderUnknownRequest(w)
		return
	}
	if req.Done() { // authenticated by the SSO session (sso.go): no form
		// Nothing is rendered: no reason to forbid framing (silent authentication in an iframe).
		w.Header().Del("X-Frame-Options")
		w.Header().Del("Content-Security-Policy")
		http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
		return
	}
	render(w, http.StatusOK, loginView{ID: id, ClientID: req.GetClientID(), Scopes: req.GetScopes()})
}

func (l *loginPage) submit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("id")
	req, err := l.store.AuthRequestByID(r.Context(), id)
	if err != nil {
		renderUnknownRequest(w)
		return
	}
	if r.PostForm.Get("action") == "deny" {
		if err := l.store.DeleteAuthRequest(r.Context(), id); err != nil {
			slog.WarnContext(r.Context(), "login: delete denied auth request", "error", err)
		}
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("The user denied the request."), l.authorizer)
		return
	}
	username := r.PostForm.Get("username")
	if err := l.store.CheckUsernamePassword(username, r.PostForm.Get("password"), id); err != nil {
		render(w, http.StatusOK, loginView{
			ID: id, ClientID: req.GetClientID(), Scopes: req.GetScopes(),
			Username: username, Error: "Wrong username or password.",
		})
		return
	}
	if l.sso != nil {
		if done, err := l.store.AuthRequestByID(r.Context(), id); err == nil && done.GetSubject() != "" {
			cookie, err := l.sso.create(done.GetSubject())
			if err != nil {
				slog.ErrorContext(r.Context(), "login: SSO session", "error", err)
			} else {
				http.SetCookie(w, cookie)
			}
		}
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

func renderUnknownRequest(w http.ResponseWriter) {
	render(w, http.StatusBadRequest, loginView{
		Error: "This sign-in request is unknown or has already been used. Start again from the app.",
	})
}

type loginView struct {
	ID       string // auth request id; empty: no form
	ClientID string
	Scopes   []string
	Username string
	Error    string
	User     string
	Password string
}

func render(w http.ResponseWriter, status int, v loginView) {
	v.User, v.Password = demoUser, demoPassword
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := loginTemplate.Execute(w, v); err != nil {
		slog.Error("login: render", "error", err)
	}
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · pkce-wasm dev OpenID Provider</title>
<style>
  :root { color-scheme: light dark; --accent: #2f6fde; --muted: #6b7280; --border: #d1d5db; --bg: #f3f4f6; --card: #fff; --fg: #111827; --err: #b91c1c; }
  @media (prefers-color-scheme: dark) { :root { --border: #374151; --bg: #111827; --card: #1f2937; --fg: #f9fafb; --muted: #9ca3af; --err: #f87171; } }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--fg);
         font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  main { width: min(24rem, calc(100vw - 2rem)); background: var(--card); border: 1px solid var(--border);
         border-radius: 12px; padding: 1.75rem; box-shadow: 0 10px 30px rgb(0 0 0 / 0.08); }
  .brand { margin: 0; font-size: .8rem; letter-spacing: .06em; text-transform: uppercase; color: var(--muted); }
  h1 { margin: .25rem 0 1rem; font-size: 1.4rem; }
  .client { margin: 0 0 1.25rem; color: var(--muted); font-size: .9rem; }
  code { font: .85em ui-monospace, SFMono-Regular, Menlo, monospace; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; font-size: .9rem; }
  input { width: 100%; padding: .6rem .7rem; font: inherit; color: inherit; background: transparent;
          border: 1px solid var(--border); border-radius: 8px; }
  input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
  .error { margin: 0 0 1rem; padding: .6rem .75rem; border-radius: 8px; color: var(--err);
           border: 1px solid currentColor; font-size: .9rem; }
  .buttons { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .65rem; font: inherit; font-weight: 600; border-radius: 8px; cursor: pointer;
           border: 1px solid var(--border); background: transparent; color: inherit; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  .hint { margin: 1.25rem 0 0; font-size: .8rem; color: var(--muted); }
</style>
</head>
<body>
<main>
  <p class="brand">pkce-wasm dev OpenID Provider</p>
  <h1>Sign in</h1>
  {{if .ID}}<p class="client">to <code>{{.ClientID}}</code>{{with .Scopes}}, requesting <code>{{range $i, $s := .}}{{if $i}} {{end}}{{$s}}{{end}}</code>{{end}}</p>{{end}}
  {{with .Error}}<p class="error" id="error" role="alert">{{.}}</p>{{end}}
  {{if .ID}}
  <form method="post" action="/login" autocomplete="off">
    <input type="hidden" name="id" value="{{.ID}}">
    <label for="username">Username</label>
    <input id="username" name="username" type="text" value="{{.Username}}" autocapitalize="none" spellcheck="false" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password">
    <div class="buttons">
      <button id="sign-in" class="primary" type="submit" name="action" value="sign-in">Sign in</button>
      <button id="deny" type="submit" name="action" value="deny">Deny</button>
    </div>
  </form>
  <p class="hint">Dev user: <code>{{.User}}</code> / <code>{{.Password}}</code></p>
  {{end}}
</main>
</body>
</html>
`))
