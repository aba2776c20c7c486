package core

import (
	"testing"
	"time"
)

// Two members whose names fold to the same key are a duplicate in every document we parse: Go
// would match either to the struct field (last wins) while JSON.parse keeps both names apart.
func TestDuplicateMembersFoldedRejectedEverywhere(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	jwt := func(header, payload string) string {
		return b64url([]byte(header)) + "." + b64url([]byte(payload)) + "." + b64url([]byte("sig"))
	}
	claims := `"iss":"https://op.example.com","aud":"spa-client","iat":1800000000,"exp":1800000300`
	metaRest := `"authorization_endpoint":"https://op.example.com/a","token_endpoint":"https://op.example.com/t"`
	for _, tt := range []struct {
		name  string
		parse func() error
		want  string
	}{
		{"ID token sub, long s", func() error {
			_, err := ParseJWT(jwt(`{"alg":"RS256"}`, `{"sub":"alice","ſub":"bob",`+claims+`}`))
			return err
		}, CodeInvalidIDToken},
		{"ID token sub, upper case", func() error {
			_, err := ParseJWT(jwt(`{"alg":"RS256"}`, `{"sub":"alice","SUB":"bob",`+claims+`}`))
			return err
		}, CodeInvalidIDToken},
		{"ID token exact duplicate", func() error {
			_, err := ParseJWT(jwt(`{"alg":"RS256"}`, `{"sub":"alice","sub":"bob",`+claims+`}`))
			return err
		}, CodeInvalidIDToken},
		{"ID token nested claim duplicate", func() error {
			_, err := ParseJWT(jwt(`{"alg":"RS256"}`, `{"sub":"alice","address":{"country":"FR","Country":"DE"},`+claims+`}`))
			return err
		}, CodeInvalidIDToken},
		{"JOSE header alg", func() error {
			_, err := ParseJWT(jwt(`{"alg":"RS256","ALG":"none"}`, `{"sub":"alice",`+claims+`}`))
			return err
		}, CodeInvalidIDToken},
		{"JOSE header kid, Kelvin sign", func() error {
			_, err := ParseJWT(jwt(`{"alg":"RS256","kid":"a","\u212aid":"b"}`, `{"sub":"alice",`+claims+`}`))
			return err
		}, CodeInvalidIDToken},
		{"discovery issuer", func() error {
			_, err := ParseMetadata([]byte(`{"issuer":"https://op.example.com","ISSUER":"https://evil.example",`+metaRest+`}`), "https://op.example.com")
			return err
		}, CodeDiscoveryFailed},
		{"discovery exact", func() error {
			_, err := ParseMetadata([]byte(`{"issuer":"https://op.example.com","token_endpoint":"https://evil.example/t",`+metaRest+`}`), "https://op.example.com")
			return err
		}, CodeDiscoveryFailed},
		{"JWK kid", func() error {
			_, err := ParseJWKS([]byte(`{"keys":[{"kty":"RSA","kid":"a","KID":"b","n":"AQAB","e":"AQAB"}]}`))
			return err
		}, CodeInvalidIDToken},
		{"JWK exact", func() error {
			_, err := ParseJWKS([]byte(`{"keys":[{"kty":"RSA","kid":"a","kid":"b","n":"AQAB","e":"AQAB"}]}`))
			return err
		}, CodeInvalidIDToken},
		{"JWKS keys", func() error {
			_, err := ParseJWKS([]byte(`{"keys":[],"Keys":[{"kty":"RSA","kid":"a"}]}`))
			return err
		}, CodeInvalidIDToken},
		{"token response access_token", func() error {
			_, err := ParseTokenResponse(200, []byte(`{"access_token":"a","ACCESS_TOKEN":"b","token_type":"Bearer"}`), now)
			return err
		}, CodeInvalidTokenResponse},
		{"token response Kelvin sign", func() error {
			_, err := ParseTokenResponse(200, []byte(`{"access_token":"a","access_to\u212aen":"b","token_type":"Bearer"}`), now)
			return err
		}, CodeInvalidTokenResponse},
		{"token error", func() error {
			_, err := ParseTokenResponse(400, []byte(`{"error":"invalid_grant","Error":"access_denied"}`), now)
			return err
		}, CodeInvalidTokenResponse},
		{"transaction", func() error {
			_, err := decodeTransaction(`{"state":"s","State":"t"}`)
			if err != nil {
				return newError(CodeStateMismatch, "%v", err)
			}
			return nil
		}, CodeStateMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.parse()); got != tt.want {
				t.Fatalf("code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDuplicateMembersOnlySiblingsCount(t *testing.T) {
	for _, ok := range []string{
		`{"a":{"x":1},"b":{"x":2}}`,
		`{"a":[{"x":1},{"x":2}],"x":3}`,
		`{"a":{"a":{"a":1}}}`,
		`{"s":1,"t":2,"ß":3,"ss":4}`, // "ß" is not simply folded to "ss"
		`{"k":1,"kk":2}`,
		`{"":1,"a":[[],{}],"b":"x"}`,
	} {
		if _, err := parseJSONObject([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		`{"a":{"x":1,"X":2}}`,
		`{"a":[{"x":1,"x":2}]}`,
		`{"a":[1,{"b":{"c":1,"C":2}}]}`,
		`{"\u017f":1,"s":2}`,
		`{"a\u0301":1,"A\u0301":2}`,
	} {
		if _, err := parseJSONObject([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
