package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Single sign-on at the OP (what Keycloak's or Auth0's login session does):
//
//   - a successful sign-in on the login page creates a server-side session for the user and sets
//     the cookie ssoCookieName on the issuer origin (HttpOnly, SameSite=Lax, Path=/, Max-Age = the
//     -sso-ttl flag); the session ends -sso-ttl after the sign-in (no sliding renewal);
//   - an authorization request from a browser with a live session completes without the login
//     form, with or without prompt=none (OIDC Core §3.1.2.1); prompt=login always shows the form;
//     prompt=none without a live session is answered login_required (OIDC Core §3.1.2.6);
//     a session older than max_age, or for another user than id_token_hint's, counts as none;
//   - end_session (OIDC RP-Initiated Logout 1.0 §2) ends it: the server-side entry is deleted and
//     the cookie cleared, whether or not the request had an id_token_hint.
//
// devStorage.CreateAuthRequest marks the auth request authenticated; the login page then sends
// the browser straight on to the OP's callback (login.go).
const ssoCookieName = "pkce_op_sso"

type ssoSession struct {
	id       string
	userID   string
	authTime time.Time
	expires  time.Time
}

type ssoStore struct {
	ttl    time.Duration
	secure bool // issuer is https: the cookie gets Secure
	now    func() time.Time

	mu       sync.Mutex
	sessions map[string]ssoSession // by cookie value
}

func newSSOStore(c Config) *ssoStore {
	return &ssoStore{
		ttl:      c.SSOTTL,
		secure:   strings.HasPrefix(c.Issuer, "https://"),
		now:      time.Now,
		sessions: map[string]ssoSession{},
	}
}

// create starts a session for userID and returns its cookie.
func (s *ssoStore) create(userID string) (*http.Cookie, error) {
	id, err := randomString()
	if err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	for k, v := range s.sessions { // keep the map small
		if !now.Before(v.expires) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = ssoSession{id: id, userID: userID, authTime: now, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return s.cookie(id, int(s.ttl/time.Second)), nil
}

// lookup returns the live session with cookie value id.
func (s *ssoStore) lookup(id string) (ssoSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.sessions[id]
	if ok && !s.now().Before(v.expires) {
		delete(s.sessions, id)
		return ssoSession{}, false
	}
	return v, ok
}

func (s *ssoStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// clear ends every session (POST /__test/reset).
func (s *ssoStore) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// len is the number of stored sessions (tests).
func (s *ssoStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// cookie is the session cookie; maxAge < 0 clears it.
func (s *ssoStore) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     ssoCookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

type ssoContextKey struct{}

// ssoFromContext returns the live session of the request (put there by ssoStore.middleware).
func ssoFromContext(ctx context.Context) (ssoSession, bool) {
	v, ok := ctx.Value(ssoContextKey{}).(ssoSession)
	return v, ok
}

// middleware puts the request's live session, if any, into its context. On endSessionPath, a
// successful logout (the OP's redirect) deletes the session and clears the cookie.
func (s *ssoStore) middleware(endSessionPath string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(ssoCookieName)
		var cookieID string
		if err == nil && c.Value != "" {
			cookieID = c.Value
			if sess, ok := s.lookup(c.Value); ok {
				r = r.WithContext(context.WithValue(r.Context(), ssoContextKey{}, sess))
			}
		}
		if r.URL.Path != endSessionPath || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&onRedirectWriter{ResponseWriter: w, onRedirect: func(h http.Header) {
			if cookieID != "" {
				s.delete(cookieID)
			}
			h.Add("Set-Cookie", s.cookie("", -1).String())
		}}, r)
	})
}

// onRedirectWriter calls onRedirect with the headers just before a 3xx status is written.
type onRedirectWriter struct {
	http.ResponseWriter
	onRedirect func(http.Header)
	wrote      bool
}

func (o *onRedirectWriter) WriteHeader(code int) {
	if !o.wrote {
		o.wrote = true
		if code >= 300 && code < 400 {
			o.onRedirect(o.Header())
		}
	}
	o.ResponseWriter.WriteHeader(code)
}

func (o *onRedirectWriter) Write(p []byte) (int, error) {
	if !o.wrote {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (o *onRedirectWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// handler serves GET /__test/sso on the issuer origin (test hooks): {"sessions": <live SSO
// sessions>}, so that end-to-end tests can see that a logout ended the session (the cookie is
// HttpOnly). POST /__test/sso/reset ends them all (as POST /__test/reset on the app origin does).
func (s *ssoStore) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/__test/sso", testHook("GET, HEAD", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"sessions": s.live()})
	}))
	mux.Handle("/__test/sso/reset", testHook("POST", func(w http.ResponseWriter, _ *http.Request) {
		s.clear()
		writeJSON(w, http.StatusOK, map[string]int{"sessions": 0})
	}))
	return mux
}

// live is the number of sessions that have not expired.
func (s *ssoStore) live() int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.sessions {
		if now.Before(v.expires) {
			n++
		}
	}
	return n
}
