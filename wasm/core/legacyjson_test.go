package core

// The struct decoding this package did with encoding/json before strictjson, kept as a test
// oracle: for every document parseJSONObject accepts, each reader must accept exactly what
// encoding/json's decoding into the old types accepted, and read the same values.

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type legacyAudience []string

func (a *legacyAudience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = legacyAudience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

type legacyNumDate float64

func (n *legacyNumDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return constError("NumericDate out of range")
	}
	*n = legacyNumDate(f)
	return nil
}

type legacyClaims struct {
	Iss      string         `json:"iss"`
	Sub      string         `json:"sub"`
	Aud      legacyAudience `json:"aud"`
	Azp      string         `json:"azp"`
	Nonce    string         `json:"nonce"`
	Exp      *legacyNumDate `json:"exp"`
	Iat      *legacyNumDate `json:"iat"`
	Nbf      *legacyNumDate `json:"nbf"`
	AuthTime *legacyNumDate `json:"auth_time"`
	Acr      string         `json:"acr"`
}

type legacyTokenResponse struct {
	AccessToken      json.RawMessage `json:"access_token"`
	TokenType        json.RawMessage `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	RefreshToken     json.RawMessage `json:"refresh_token"`
	IDToken          json.RawMessage `json:"id_token"`
	Scope            json.RawMessage `json:"scope"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription json.RawMessage `json:"error_description"`
}

type legacyJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
}

func legacyDecode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	return dec.Decode(v)
}

func ptrEq(a *numDate, b *legacyNumDate) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return float64(*a) == float64(*b)
}

func rawEq(v interface{ Raw() string }, exists bool, l json.RawMessage) bool {
	if !exists {
		return l == nil
	}
	return v.Raw() == string(l)
}

// compareLegacy runs every reader on body and fails on any difference with encoding/json.
func compareLegacy(t *testing.T, body []byte) {
	if _, err := parseJSONObject(body); err != nil {
		return // strictjson's own rules; its differential test covers them
	}
	same := func(what string, newErr, oldErr error, eq func() bool) {
		t.Helper()
		if (newErr == nil) != (oldErr == nil) {
			t.Fatalf("%s of %q: error %v, encoding/json: %v", what, body, newErr, oldErr)
		}
		if newErr == nil && !eq() {
			t.Fatalf("%s of %q: values differ from encoding/json's", what, body)
		}
	}

	m, err := readMetadata(body)
	var lm Metadata
	same("Metadata", err, legacyDecode(body, &lm), func() bool { return reflect.DeepEqual(m, lm) })

	h, err := readJOSEHeader(body)
	var lh JOSEHeader
	same("JOSE header", err, legacyDecode(body, &lh), func() bool {
		return h.Alg == lh.Alg && h.Kid == lh.Kid && h.Typ == lh.Typ && (h.Crit == nil) == (lh.Crit == nil)
	})

	c, err := readIDClaims(body)
	var lc legacyClaims
	same("ID claims", err, legacyDecode(body, &lc), func() bool {
		return c.Iss == lc.Iss && c.Sub == lc.Sub && c.Azp == lc.Azp && c.Nonce == lc.Nonce && c.Acr == lc.Acr &&
			reflect.DeepEqual([]string(c.Aud), []string(lc.Aud)) && ptrEq(c.Exp, lc.Exp) && ptrEq(c.Iat, lc.Iat) &&
			ptrEq(c.Nbf, lc.Nbf) && ptrEq(c.AuthTime, lc.AuthTime)
	})

	r, err := readTokenResponse(body)
	var lr legacyTokenResponse
	same("token response", err, legacyDecode(body, &lr), func() bool {
		return rawEq(r.AccessToken, r.AccessToken.Exists(), lr.AccessToken) && rawEq(r.TokenType, r.TokenType.Exists(), lr.TokenType) &&
			rawEq(r.ExpiresIn, r.ExpiresIn.Exists(), lr.ExpiresIn) && rawEq(r.RefreshToken, r.RefreshToken.Exists(), lr.RefreshToken) &&
			rawEq(r.IDToken, r.IDToken.Exists(), lr.IDToken) && rawEq(r.Scope, r.Scope.Exists(), lr.Scope) &&
			rawEq(r.Error, r.Error.Exists(), lr.Error) && rawEq(r.ErrorDescription, r.ErrorDescription.Exists(), lr.ErrorDescription)
	})

	// One key of a JWK Set: ParseJWKS keeps it exactly when the old decoding into JWK succeeded.
	keys, err := ParseJWKS([]byte(`{"keys":[` + string(body) + `]}`))
	var lk legacyJWK
	oldErr := legacyDecode(body, &lk)
	if err != nil {
		t.Fatalf("JWKS around %q: %v", body, err)
	}
	if oldErr == nil && lk.Use != "" && lk.Use != "sig" {
		oldErr = constError("not a signing key")
	}
	var kErr error
	if len(keys) == 0 {
		kErr = constError("dropped")
	}
	same("JWK", kErr, oldErr, func() bool {
		k := keys[0]
		return k.Kty == lk.Kty && k.Kid == lk.Kid && k.Use == lk.Use && k.Alg == lk.Alg && k.Crv == lk.Crv && string(k.Raw) == strings.Trim(string(body), " \t\r\n")
	})

	// Transactions: the old decoder did not unescape created_at, and time.Parse is what both use
	// underneath; documents whose created_at has an escape are left out.
	if !strings.Contains(string(body), `\`) {
		tx, err := decodeTransaction(string(body))
		var lt Transaction
		oldErr := legacyDecode(body, &lt)
		if oldErr == nil && (lt.State == "" || lt.Nonce == "" || !ValidVerifier(lt.Verifier) || lt.RedirectURI == "") {
			oldErr = errNotObject
		}
		same("transaction", err, oldErr, func() bool {
			return tx.State == lt.State && tx.Nonce == lt.Nonce && tx.Verifier == lt.Verifier && tx.RedirectURI == lt.RedirectURI &&
				tx.ReturnTo == lt.ReturnTo && tx.Issuer == lt.Issuer && tx.Prompt == lt.Prompt && tx.Mode == lt.Mode &&
				reflect.DeepEqual(tx.MaxAge, lt.MaxAge) && tx.CreatedAt.Equal(lt.CreatedAt)
		})
	}
}

var legacySeeds = []string{
	`{}`, `{"issuer":"https://op.example.com","authorization_endpoint":"https://op.example.com/a","response_types_supported":["code",null],"code_challenge_methods_supported":[],"authorization_response_iss_parameter_supported":true}`,
	`{"ISSUER":1}`, `{"jwks_uri":null,"response_types_supported":null,"authorization_response_iss_parameter_supported":"yes"}`,
	`{"response_types_supported":"code"}`, `{"response_types_supported":[1]}`,
	`{"alg":"RS256","kid":"k","typ":"JWT","crit":null}`, `{"alg":"RS256","CRIT":[]}`, `{"Alg":1}`,
	`{"iss":"i","sub":"s","aud":"a","exp":1e10,"iat":1.5,"nbf":null,"auth_time":0,"acr":"x","azp":null}`,
	`{"aud":["a",null,"b"]}`, `{"aud":null}`, `{"aud":[1]}`, `{"aud":{}}`, `{"exp":-1}`, `{"exp":1e12}`, `{"exp":"1"}`,
	`{"exp":1e400}`, `{"iat":-0}`, `{"EXP":5}`,
	`{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":null,"error":null,"Scope":[1, 2]}`,
	`{"ACCESS_TOKEN":{"a":1},"expires_in":"3600"}`,
	`{"kty":"EC","crv":"P-256","kid":"k","use":"sig","alg":"ES256","x":"1","raw":{"kty":"oct"}}`,
	`{"kty":"RSA","use":"enc"}`, `{"kty":1}`, `{"KTY":"RSA","Use":null}`,
	`{"state":"s","nonce":"n","code_verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","redirect_uri":"https://app/cb","max_age":0,"created_at":"2026-05-06T07:08:09.123456789+02:00"}`,
	`{"state":"s","nonce":"n","code_verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","redirect_uri":"r","max_age":1.5}`,
	`{"state":"s","nonce":"n","code_verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","redirect_uri":"r","created_at":"yesterday"}`,
	`{"state":"s","nonce":"n","code_verifier":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","redirect_uri":"r","created_at":null,"max_age":null,"MODE":"popup"}`,
}

func TestReadersMatchEncodingJSON(t *testing.T) {
	for _, s := range legacySeeds {
		compareLegacy(t, []byte(s))
	}
}

func FuzzReadersMatchEncodingJSON(f *testing.F) {
	for _, s := range legacySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareLegacy(t, body)
	})
}

// What the client writes is byte for byte what encoding/json wrote from the same struct tags.
func TestWritersMatchEncodingJSON(t *testing.T) {
	age := int64(300)
	for _, tx := range []Transaction{
		{State: "s", Nonce: "n", Verifier: "v", RedirectURI: "https://app.example.com/cb?a=1&b=<2>", ReturnTo: "/x\u2028\"y\"",
			Issuer: "https://op", CreatedAt: time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("", 3600))},
		{State: "s", Prompt: "login", Mode: ModePopup, MaxAge: &age, CreatedAt: time.Unix(1_800_000_000, 0).UTC()},
		{},
	} {
		want, err := json.Marshal(&tx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tx.encode()
		if err != nil || got != string(want) {
			t.Errorf("encode = %s %v\nwant %s", got, err, want)
		}
	}
	if _, err := (&Transaction{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).encode(); err == nil {
		t.Error("year 10000 encoded; encoding/json refused it")
	}
	hdr := dpopHeader{Typ: "dpop+jwt", Alg: DPoPAlg, JWK: dpopHeaderJWK{Kty: "EC", Crv: "P-256", X: "x<", Y: "y&"}}
	if want, _ := json.Marshal(hdr); string(hdr.encode()) != string(want) {
		t.Errorf("header %s, want %s", hdr.encode(), want)
	}
	for _, c := range []dpopClaims{
		{JTI: "j", HTM: "POST", HTU: "https://op/t", IAT: 1_800_000_000},
		{JTI: "j", HTM: "GET", HTU: "https://rs/x", IAT: -1, ATH: "a", Nonce: "n\"1"},
	} {
		if want, _ := json.Marshal(c); string(c.encode()) != string(want) {
			t.Errorf("claims %s, want %s", c.encode(), want)
		}
	}
}
