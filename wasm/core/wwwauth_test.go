package core

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waParams is shorthand for a Params map in the tables below.
type waParams = map[string]string

func TestParseWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []Challenge
		bearer string // BearerError(header)
	}{
		// RFC 6750 §3: a request without credentials gets no error code.
		{"rfc6750 §3 realm only", `Bearer realm="example"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"realm": "example"}}}, ""},
		// RFC 6750 §3: expired token.
		{"rfc6750 §3 invalid_token", `Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"realm": "example", "error": "invalid_token", "error_description": "The access token expired"}}},
			"invalid_token"},
		// RFC 6750 §3.1 insufficient_scope with the scope needed (§3: space-delimited, quoted).
		{"rfc6750 §3.1 insufficient_scope", `Bearer realm="api", error="insufficient_scope", scope="openid profile api:read", error_uri="https://op.example.com/errors#scope"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"realm": "api", "error": "insufficient_scope", "scope": "openid profile api:read", "error_uri": "https://op.example.com/errors#scope"}}},
			"insufficient_scope"},
		{"rfc6750 §3.1 invalid_request", `Bearer error="invalid_request"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"error": "invalid_request"}}}, "invalid_request"},
		// What server/api.go sends.
		{"dev server", `Bearer realm="pkce-wasm-demo", error="invalid_token", error_description="token has expired"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"realm": "pkce-wasm-demo", "error": "invalid_token", "error_description": "token has expired"}}},
			"invalid_token"},
		{"multiple challenges", `Basic realm="x", Bearer error="invalid_token"`,
			[]Challenge{{Scheme: "Basic", Params: waParams{"realm": "x"}}, {Scheme: "Bearer", Params: waParams{"error": "invalid_token"}}},
			"invalid_token"},
		// RFC 9110 §11.6.1 example.
		{"rfc9110 §11.6.1 Newauth", `Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
			[]Challenge{
				{Scheme: "Newauth", Params: waParams{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
				{Scheme: "Basic", Params: waParams{"realm": "simple"}},
			}, ""},
		{"token68", `Negotiate YIIBgwYGKwYBBQUCoIIBdzCCAXOgMDAuBgkqhkiG9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCg==`,
			[]Challenge{{Scheme: "Negotiate", Token68: "YIIBgwYGKwYBBQUCoIIBdzCCAXOgMDAuBgkqhkiG9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCg=="}}, ""},
		{"token68 then params challenge", `Negotiate abc/+.~_-=, Bearer realm="r" , error = "invalid_token"`,
			[]Challenge{{Scheme: "Negotiate", Token68: "abc/+.~_-="}, {Scheme: "Bearer", Params: waParams{"realm": "r", "error": "invalid_token"}}},
			"invalid_token"},
		{"token68 single padding char", `Newauth abc=`, []Challenge{{Scheme: "Newauth", Token68: "abc="}}, ""},
		// "name=" with no value is not an auth-param, but it is a token68 (RFC 9110 §11.2).
		{"name= is a token68", `Bearer realm=`, []Challenge{{Scheme: "Bearer", Token68: "realm="}}, ""},
		{"case-insensitive scheme and names", `bEARER REALM="Example", Error="invalid_token"`,
			[]Challenge{{Scheme: "bEARER", Params: waParams{"realm": "Example", "error": "invalid_token"}}}, "invalid_token"},
		{"scheme without params, then Bearer", `Basic, Bearer`,
			[]Challenge{{Scheme: "Basic"}, {Scheme: "Bearer"}}, ""},
		{"empty list elements and OWS", " ,, Basic realm=\"a\" ,\t, ,Bearer  error=invalid_token , ,",
			[]Challenge{{Scheme: "Basic", Params: waParams{"realm": "a"}}, {Scheme: "Bearer", Params: waParams{"error": "invalid_token"}}},
			"invalid_token"},
		{"empty quoted value", `Bearer realm=""`, []Challenge{{Scheme: "Bearer", Params: waParams{"realm": ""}}}, ""},
		{"escapes and obs-text", "Bearer error_description=\"a\\\\b \\\"q\\\" \\x caf\xc3\xa9\tend\"",
			[]Challenge{{Scheme: "Bearer", Params: waParams{"error_description": "a\\b \"q\" x caf\xc3\xa9\tend"}}}, ""},
		{"comma inside quoted string", `Bearer realm="a, b=c", error="invalid_token"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"realm": "a, b=c", "error": "invalid_token"}}}, "invalid_token"},
		// RFC 9449 §7.1.
		{"DPoP", `DPoP algs="ES256 PS256", error="invalid_dpop_proof", error_description="Invalid DPoP key binding"`,
			[]Challenge{{Scheme: "DPoP", Params: waParams{"algs": "ES256 PS256", "error": "invalid_dpop_proof", "error_description": "Invalid DPoP key binding"}}}, ""},
		{"DPoP then Bearer (RFC 9449 §7.2)", `DPoP algs="ES256", error="use_dpop_nonce", Bearer realm="r", error="invalid_token"`,
			[]Challenge{
				{Scheme: "DPoP", Params: waParams{"algs": "ES256", "error": "use_dpop_nonce"}},
				{Scheme: "Bearer", Params: waParams{"realm": "r", "error": "invalid_token"}},
			}, "invalid_token"},
		{"only the first Bearer counts", `Bearer realm="a", Bearer error="invalid_token"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"realm": "a"}}, {Scheme: "Bearer", Params: waParams{"error": "invalid_token"}}}, ""},
		{"hostile error code is not returned", `Bearer error="Invalid Token<script>"`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"error": "Invalid Token<script>"}}}, ""},
		{"extension error code", `Bearer error=use_dpop_nonce`,
			[]Challenge{{Scheme: "Bearer", Params: waParams{"error": "use_dpop_nonce"}}}, "use_dpop_nonce"},
		{"empty", ``, nil, ""},
		{"blank", " \t ", nil, ""},
		{"commas only", ",,", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(tc.header)
			if err != nil {
				t.Fatalf("ParseWWWAuthenticate(%q): %v", tc.header, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseWWWAuthenticate(%q)\n got %#v\nwant %#v", tc.header, got, tc.want)
			}
			if b := BearerError(tc.header); b != tc.bearer {
				t.Errorf("BearerError(%q) = %q, want %q", tc.header, b, tc.bearer)
			}
		})
	}
}

func TestParseWWWAuthenticateMalformed(t *testing.T) {
	tests := []struct{ name, header string }{
		{"unterminated quote", `Bearer realm="example`},
		{"unterminated quote after escape", `Bearer realm="example\`},
		{"missing scheme", `realm="example"`},
		{"missing scheme after comma", `Basic realm="a", ="b"`},
		{"= without name", `Bearer ="x"`},
		{"= alone", `=`},
		{"= after comma in params", `Bearer realm="a", =x`},
		{"no space after scheme", `Bearer"x"`},
		{"scheme followed by =", `Bearer=x`},
		{"missing value before comma", `Bearer realm=, error="invalid_token"`},
		{"missing comma between params", `Bearer realm="a" error="invalid_token"`},
		{"two bare words", `Bearer foo bar`},
		{"repeated param", `Bearer error="invalid_token", ERROR="insufficient_scope"`},
		{"control character in quoted string", "Bearer realm=\"a\x00b\""},
		{"newline in quoted string", "Bearer realm=\"a\r\nb\""},
		{"invalid quoted-pair", "Bearer realm=\"a\\\x01\""},
		{"non-token scheme", "B\xc3\xa9arer realm=\"x\""},
		{"token68 followed by params", `Negotiate abc== realm="x"`},
		{"unquoted value with separator", `Bearer error_uri=https://x.example/e`},
		{"too long", `Bearer realm="` + strings.Repeat("a", maxWWWAuthenticateBytes) + `"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWWWAuthenticate(tc.header)
			if err == nil {
				t.Fatalf("ParseWWWAuthenticate(%q) = %#v, want an error", tc.header, got)
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidChallenge {
				t.Fatalf("error %#v, want *Error with code %q", err, CodeInvalidChallenge)
			}
			if got != nil {
				t.Errorf("challenges %#v returned with an error", got)
			}
			if len(tc.header) > 8 && strings.Contains(err.Error(), tc.header) {
				t.Errorf("error %q echoes the header", err)
			}
			if b := BearerError(tc.header); b != "" {
				t.Errorf("BearerError(%q) = %q, want \"\"", tc.header, b)
			}
		})
	}
}

func TestBearerErrorSeveralFields(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"none", nil, ""},
		{"first field has no Bearer", []string{`Basic realm="x"`, `Bearer error="insufficient_scope"`}, "insufficient_scope"},
		{"malformed field skipped", []string{`Bearer error="invalid_token`, `Bearer error="invalid_request"`}, "invalid_request"},
		{"first Bearer wins across fields", []string{`Bearer realm="a"`, `Bearer error="invalid_token"`}, ""},
		{"DPoP is not Bearer", []string{`DPoP error="invalid_token"`}, ""},
		{"token68 Bearer", []string{`Bearer abc==`}, ""},
	}
	for _, tc := range tests {
		if got := BearerError(tc.headers...); got != tc.want {
			t.Errorf("%s: BearerError(%q) = %q, want %q", tc.name, tc.headers, got, tc.want)
		}
	}
}

// TestParseWWWAuthenticateHostileShapes parses inputs at the size limit shaped to trigger
// backtracking or repeated allocation. The bound is generous: it catches super-linear behaviour
// (which would take seconds at 8 KiB), not ordinary slowness under -race.
func TestParseWWWAuthenticateHostileShapes(t *testing.T) {
	fill := func(unit string) string {
		return strings.Repeat(unit, maxWWWAuthenticateBytes/len(unit))
	}
	// distinct fills the header with params p0, p1, ... so that none is a repeat.
	distinct := func(prefix, format string) string {
		var b strings.Builder
		b.WriteString(prefix)
		for i := 0; ; i++ {
			next := strings.ReplaceAll(format, "#", strconv.Itoa(i))
			if b.Len()+len(next) > maxWWWAuthenticateBytes {
				return b.String()
			}
			b.WriteString(next)
		}
	}
	shapes := map[string]string{
		"many schemes":         fill("B, "),
		"many params":          distinct("B x=y", ", p#=v"),
		"many escaped values":  distinct("B x=y", `, p#="\a"`),
		"token68 lookalikes":   "B " + fill("a"),
		"padding":              "B a" + fill("="),
		"open quote":           `B a="` + fill(`\"`),
		"names without values": "B a=b, " + fill("c "),
		"whitespace":           "B" + fill(" "),
		"commas":               fill(","),
		"repeated names":       "B " + fill("a=1,"),
	}
	start := time.Now()
	for name, h := range shapes {
		for range 20 {
			cs, err := ParseWWWAuthenticate(h)
			if err == nil && len(cs) == 0 && strings.TrimLeft(h, ", ") != "" {
				t.Errorf("%s: no challenges and no error", name)
			}
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hostile shapes took %v", d)
	}
	allocs := testing.AllocsPerRun(5, func() { _, _ = ParseWWWAuthenticate(shapes["many escaped values"]) })
	// About one allocation per value (~750 values here): linear, not one buffer of the rest of the header each.
	if allocs > 3*float64(maxWWWAuthenticateBytes)/7+100 {
		t.Errorf("many escaped values: %v allocations", allocs)
	}
}

func TestParseWWWAuthenticateLimit(t *testing.T) {
	h := `Bearer realm="` + strings.Repeat("a", maxWWWAuthenticateBytes-len(`Bearer realm=""`)) + `"`
	if _, err := ParseWWWAuthenticate(h); err != nil {
		t.Fatalf("header of exactly %d bytes: %v", len(h), err)
	}
	if _, err := ParseWWWAuthenticate(h + " "); err == nil {
		t.Fatalf("header of %d bytes accepted", len(h)+1)
	}
}
