package core

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Provider error codes at the token endpoint (RFC 6749 §5.2): registered ones pass through as Code,
// others become provider_error; OAuthError keeps the raw value and Status the HTTP status.
func TestTokenEndpointProviderErrors(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		status              int
		raw                 string
		wantCode, wantOAuth string
	}{
		{400, "invalid_grant", CodeInvalidGrant, "invalid_grant"},
		{401, "invalid_client", CodeInvalidClient, "invalid_client"},
		{400, "invalid_client", CodeInvalidClient, "invalid_client"},
		{400, "use_dpop_nonce", CodeUseDPoPNonce, "use_dpop_nonce"},
		{400, "invalid_dpop_proof", CodeInvalidDPoPProof, "invalid_dpop_proof"},
		{400, "invalid_target", CodeInvalidTarget, "invalid_target"},
		{400, "foo_bar", CodeProviderError, "foo_bar"},
		{401, "foo_bar", CodeProviderError, "foo_bar"},
		{503, "temporarily_unavailable", CodeTemporarilyUnavailable, "temporarily_unavailable"},
		// A code only a library would raise is not the provider's to give.
		{400, "invalid_config", CodeProviderError, "invalid_config"},
		{400, "invalid_id_token", CodeProviderError, "invalid_id_token"},
	} {
		body := `{"error":"` + tt.raw + `","error_description":"why"}`
		_, err := ParseTokenResponse(tt.status, []byte(body), now)
		e := wantCode(t, err, tt.wantCode)
		if e.OAuthError != tt.wantOAuth || e.Status != tt.status {
			t.Errorf("%d %s: OAuthError = %q, Status = %d; want %q, %d", tt.status, tt.raw, e.OAuthError, e.Status, tt.wantOAuth, tt.status)
		}
	}
}

// The same rule at the callback (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6), with no HTTP status.
func TestCallbackProviderErrors(t *testing.T) {
	for _, tt := range []struct{ raw, wantCode string }{
		{"access_denied", CodeAccessDenied},
		{"interaction_required", CodeInteractionRequired},
		{"invalid_target", CodeInvalidTarget},
		{"foo_bar", CodeProviderError},
		{"state_mismatch", CodeProviderError},
	} {
		t.Run(tt.raw, func(t *testing.T) {
			h := newHarness(t, nil)
			_, q := h.begin(LoginOptions{})
			cb := testRedirect + "?" + url.Values{"error": {tt.raw}, "state": {q.Get("state")}}.Encode()
			_, err := h.client.HandleCallback(context.Background(), cb)
			e := wantCode(t, err, tt.wantCode)
			if e.OAuthError != tt.raw || e.Status != 0 {
				t.Errorf("OAuthError = %q, Status = %d; want %q, 0", e.OAuthError, e.Status, tt.raw)
			}
		})
	}
}

// Errors the library raises carry no provider words.
func TestLibraryErrorsHaveNoOAuthError(t *testing.T) {
	_, err := NewClient(Config{}, Deps{})
	e := wantCode(t, err, CodeInvalidConfig)
	if e.OAuthError != "" || e.Status != 0 {
		t.Errorf("invalid_config: OAuthError = %q, Status = %d", e.OAuthError, e.Status)
	}
	_, err = ParseTokenResponse(200, []byte(`{"token_type":"Bearer"}`), time.Now())
	e = wantCode(t, err, CodeInvalidTokenResponse)
	if e.OAuthError != "" || e.Status != 0 {
		t.Errorf("invalid_token_response: OAuthError = %q, Status = %d", e.OAuthError, e.Status)
	}
}

// Every Code… constant declared in errors.go is in LibraryCodes or ProviderCodes, every listed code
// is declared there, and no list repeats a code.
func TestErrorCodesListed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{} // value -> constant name
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s is not a string literal", n.Name)
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				if prev, dup := declared[v]; dup {
					t.Errorf("%s and %s both declare %q", prev, n.Name, v)
				}
				declared[v] = n.Name
			}
		}
	}
	if len(declared) < 30 {
		t.Fatalf("found only %d Code constants in errors.go", len(declared))
	}
	listed := map[string]bool{}
	for name, list := range map[string][]string{"LibraryCodes": LibraryCodes, "ProviderCodes": ProviderCodes} {
		seen := map[string]bool{}
		for _, c := range list {
			if seen[c] {
				t.Errorf("%s lists %q twice", name, c)
			}
			seen[c] = true
			listed[c] = true
			if _, ok := declared[c]; !ok {
				t.Errorf("%s lists %q, which errors.go does not declare", name, c)
			}
			if !validOAuthErrorCode(c) {
				t.Errorf("%s: %q is not a well-formed code", name, c)
			}
		}
	}
	for v, name := range declared {
		if !listed[v] {
			t.Errorf("%s (%q) is in neither LibraryCodes nor ProviderCodes", name, v)
		}
	}
	for _, c := range []string{CodeProviderError, CodeWorkerFailed, CodeWorkerLost, CodePopupBlocked, CodeTimeout, CodeLoadFailed} {
		if !contains(LibraryCodes, c) {
			t.Errorf("LibraryCodes lacks %q", c)
		}
	}
}
