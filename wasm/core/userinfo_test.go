package core

import (
	"context"
	"strings"
	"testing"
)

// userinfoOP answers the UserInfo endpoint with a chosen body and content type.
type userinfoOP struct {
	*tabsOP
	status int
	ctype  string
	body   string
	auth   string
}

func (op *userinfoOP) Do(ctx context.Context, r *HTTPRequest) (*HTTPResponse, error) {
	if strings.HasSuffix(r.URL, "/.well-known/openid-configuration") {
		return &HTTPResponse{Status: 200, Body: []byte(`{"issuer":"` + tabsIssuer + `","authorization_endpoint":"` + tabsIssuer +
			`/authorize","token_endpoint":"` + tabsIssuer + `/token","userinfo_endpoint":"` + tabsIssuer + `/userinfo"}`)}, nil
	}
	if strings.HasSuffix(r.URL, "/userinfo") {
		op.auth = r.Header["Authorization"]
		return &HTTPResponse{Status: op.status, ContentType: op.ctype, Body: []byte(op.body)}, nil
	}
	return op.tabsOP.Do(ctx, r)
}

func TestUserInfoSubMustMatch(t *testing.T) {
	for _, tt := range []struct {
		name, ctype, body string
		status            int
		want              string // "" = success
	}{
		{"same sub", "application/json", `{"sub":"user-1","name":"Ann"}`, 200, ""},
		{"same sub, charset", "application/json; charset=utf-8", `{"sub":"user-1"}`, 200, ""},
		{"other sub", "application/json", `{"sub":"user-2","name":"Mallory"}`, 200, CodeInvalidUserInfo},
		{"no sub", "application/json", `{"name":"Ann"}`, 200, CodeInvalidUserInfo},
		{"numeric sub", "application/json", `{"sub":1}`, 200, CodeInvalidUserInfo},
		{"duplicate sub", "application/json", `{"sub":"user-2","sub":"user-1"}`, 200, CodeInvalidUserInfo},
		{"sub differing by case", "application/json", `{"sub":"other","SUB":"user-1"}`, 200, CodeInvalidUserInfo},
		{"sub with long s", "application/json", `{"sub":"other","ſub":"user-1"}`, 200, CodeInvalidUserInfo},
		{"signed jwt", "application/jwt", `eyJ.eyJ.sig`, 200, CodeInvalidUserInfo},
		{"html", "text/html", `<html>`, 200, CodeInvalidUserInfo},
		{"401", "application/json", `{}`, 401, CodeLoginRequired},
		{"500", "text/plain", `oops`, 500, CodeServerError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newTabsWorld(t, 1)
			op := &userinfoOP{tabsOP: w.op, status: tt.status, ctype: tt.ctype, body: tt.body}
			w.tabs[0].deps.HTTP = op
			w.login(t, 0)
			got, err := w.tabs[0].UserInfo(context.Background())
			if tt.want == "" {
				if err != nil || !strings.Contains(string(got), `"user-1"`) {
					t.Fatalf("UserInfo = %s, %v", got, err)
				}
				if op.auth != "Bearer at-1" {
					t.Fatalf("userinfo Authorization = %q", op.auth)
				}
				return
			}
			if ErrorCode(err) != tt.want {
				t.Fatalf("err = %v, want code %s", err, tt.want)
			}
		})
	}
}

func TestUserInfoSignedOut(t *testing.T) {
	w := newTabsWorld(t, 1)
	op := &userinfoOP{tabsOP: w.op, status: 200, ctype: "application/json", body: `{"sub":"user-1"}`}
	w.tabs[0].deps.HTTP = op
	if _, err := w.tabs[0].UserInfo(context.Background()); ErrorCode(err) != CodeLoginRequired {
		t.Fatalf("signed out: err = %v, want login_required", err)
	}
	if op.auth != "" {
		t.Fatal("a signed-out client called userinfo")
	}
}
