package core

import (
	"strings"
	"testing"
	"time"
)

// benchTokenResponse is a realistic code-exchange answer (RFC 6749 §5.1 with an OIDC id_token):
// a JWT access token, a refresh token, and an ID token whose claims ParseJWT decodes.
func benchTokenResponse(b *testing.B) (body []byte, idToken string) {
	b.Helper()
	hdr := `{"alg":"RS256","kid":"2024-06-key-1","typ":"JWT"}`
	claims := `{"iss":"https://op.example.com","sub":"248289761001","aud":["spa-client","https://api.example.com"],` +
		`"azp":"spa-client","nonce":"n-0S6_WzA2Mj","exp":1800000300,"iat":1800000000,"auth_time":1799999990,` +
		`"acr":"urn:mace:incommon:iap:silver","name":"Jane Doe","given_name":"Jane","family_name":"Doe",` +
		`"email":"janedoe@example.com","email_verified":true,"locale":"en-US",` +
		`"address":{"street_address":"1234 Hollywood Blvd.","locality":"Los Angeles","region":"CA","country":"US"},` +
		`"groups":["admins","users","billing"],"sid":"08a5019c-17e1-4977-8f42-65a12843ea02"}`
	idToken = b64url([]byte(hdr)) + "." + b64url([]byte(claims)) + "." + b64url([]byte(strings.Repeat("s", 256)))
	at := b64url([]byte(hdr)) + "." + b64url([]byte(`{"iss":"https://op.example.com","sub":"248289761001","aud":"https://api.example.com","scope":"openid profile email","exp":1800000300,"iat":1800000000,"jti":"5e1c7e0b-5d1a-4b2e-9a3c-9d7f2b1f3e4a"}`)) + "." + b64url([]byte(strings.Repeat("t", 256)))
	body = []byte(`{"access_token":"` + at + `","token_type":"Bearer","expires_in":3600,` +
		`"refresh_token":"` + strings.Repeat("r", 64) + `","id_token":"` + idToken + `","scope":"openid profile email offline_access"}`)
	return body, idToken
}

// BenchmarkParseTokenResponseAndIDToken is the JSON work of one code exchange: the token response
// and the ID token's header and claims.
func BenchmarkParseTokenResponseAndIDToken(b *testing.B) {
	body, _ := benchTokenResponse(b)
	now := time.Unix(1_800_000_000, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ts, err := ParseTokenResponse(200, body, now)
		if err != nil {
			b.Fatal(err)
		}
		j, err := ParseJWT(ts.IDToken)
		if err != nil {
			b.Fatal(err)
		}
		if len(j.Claims.Aud) != 2 || j.Claims.Exp == nil {
			b.Fatal("claims not decoded")
		}
	}
}
