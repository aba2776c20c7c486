package strictjson

import (
	"errors"
	"strings"
	"testing"
)

func reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// One table per rule of the package documentation; each row must be rejected for its reason.
func TestParseRejects(t *testing.T) {
	for reasonWant, inputs := range map[string][]string{
		ReasonSyntax: { // RFC 8259 grammar
			``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`, `{'a':1}`, `{"a":1,}`,
			`[1,]`, `[,1]`, `[1 2]`, `{"a":1 "b":2}`, `{,}`, `{"a":1,,"b":2}`, `"abc`, `"\x"`, `"\u12"`,
			`"\u12G4"`, `"\U0041"`, "\"a\tb\"", "\"a\nb\"", "\"\x00\"", "\"\x1f\"", `tru`, `True`, `nul`,
			`NULL`, `nan`, `NaN`, `Infinity`, `-Infinity`, `+1`, `-`, `--1`, `.5`, `1.`, `1.e5`, `1e`,
			`1e+`, `1E-`, `[0x10]`, `[01]`, `[-01]`, `[00]`, `[1.5.5]`, `{"a":01}`, `'a'`, "\ufeff{}", `{"a":1}}`[:0] + `{"a":[}`,
			"\v{}", "\f{}", "\u00a0{}",
		},
		ReasonTrailingData: { // RFC 8259 §2: one value
			`{}{}`, `{} {}`, `01`, `-01`, `1.5.5`, `{}]`, `{}}`, `1 2`, `"a" "b"`, `{} x`, `nullx`, `truefalse`, `{}` + "\x00",
		},
		ReasonDuplicateName: { // RFC 7493 §2.3, plus case folding
			`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"sub":1,"ſub":2}`, `{"kid":1,"\u212aid":2}`,
			`{"x":{"y":1,"Y":2}}`, `[{"a":1},{"b":1,"b":2}]`, `{"a\u0301":1,"A\u0301":2}`,
			`{"a":1,"\u0061":2}`, `{"":1,"":2}`, `{"Σ":1,"ς":2}`,
		},
		ReasonUTF8: { // RFC 8259 §8.1, RFC 7493 §2.1
			"\"\xff\"", "\"\xc3\"", "\"\xc3(\"", "\"\xe2\x82\"", "\"\xed\xa0\x80\"", /* encoded surrogate */
			"\"\xc0\xaf\"" /* overlong */, "\"\xf8\x88\x80\x80\x80\"", "{\"\xfe\":1}", "\"\xf4\x90\x80\x80\"",
		},
		ReasonSurrogate: { // RFC 7493 §2.2
			`"\ud800"`, `"\udfff"`, `"\udc00\ud800"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud800\ud800"`,
			`{"\uDBFF":1}`, `"a\uD834"`,
		},
		ReasonDepth: {
			strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
			strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1),
			strings.Repeat("[", 100000),
		},
	} {
		for _, in := range inputs {
			_, err := Parse([]byte(in))
			if got := reason(err); got != reasonWant {
				t.Errorf("Parse(%q): error %v, want reason %q", in, err, reasonWant)
			}
		}
	}
}

func TestParseAccepts(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `0`, `-0`, `1`, `-1`, `1.5`, `-0.0`, `1e5`, `1E+5`, `1e-5`, `1e400`, `-1e400`,
		`123456789012345678901234567890`, `"\u0000"`, `"\ud834\udd1e"`, `"\uD834\uDD1E"`, `"\/"`,
		`"\"\\\/\b\f\n\r\t"`, "\"\xef\xbf\xbd\"", "\"é𝄞\"", ` { "a" : [ 1 , 2 ] } `, "\t\r\n{}\t\r\n",
		`true`, `false`, `null`, `{"a":{"a":{"a":1}}}`, `{"a":[{"x":1},{"x":2}],"x":3}`,
		`{"s":1,"t":2,"ß":3,"ss":4}`, `{"k":1,"kk":2}`, `{"":1,"a":[[],{}],"b":"x"}`,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	} {
		if _, err := Parse([]byte(in)); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
}

func TestValues(t *testing.T) {
	v, err := Parse([]byte(` {"s":"a\u00e9\n","n":-12.5e1,"i":42,"b":true,"z":null,"l":["x",null],` +
		`"o":{ "k" : [1, 2] },"Up":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind() != Object || len(v.Members()) != 8 || v.Members()[0].Name != "s" || v.Members()[7].Name != "Up" {
		t.Fatalf("members %v", v.Members())
	}
	if s, ok := v.Get("s").Str(); !ok || s != "aé\n" {
		t.Errorf("s = %q %v", s, ok)
	}
	if f, ok := v.Get("n").Float64(); !ok || f != -125 {
		t.Errorf("n = %v %v", f, ok)
	}
	if _, ok := v.Get("n").Int64(); ok {
		t.Error("-12.5e1 read as an int64")
	}
	if l, ok := v.Get("n").Literal(); !ok || l != "-12.5e1" {
		t.Errorf("literal %q", l)
	}
	if i, ok := v.Get("i").Int64(); !ok || i != 42 {
		t.Errorf("i = %v %v", i, ok)
	}
	if b, ok := v.Get("b").BoolValue(); !ok || !b {
		t.Errorf("b = %v %v", b, ok)
	}
	if !v.Get("z").IsNull() || !v.Get("z").Exists() || v.Get("absent").Exists() {
		t.Error("null / absent")
	}
	if l, ok := v.Get("l").Strings(); !ok || len(l) != 2 || l[0] != "x" || l[1] != "" {
		t.Errorf("l = %q %v", l, ok)
	}
	if _, ok := v.Get("o").Strings(); ok {
		t.Error("an object read as strings")
	}
	if raw := v.Get("o").Raw(); raw != `{ "k" : [1, 2] }` {
		t.Errorf("raw %q", raw)
	}
	if v.Get("up").Exists() || !v.GetFold("up").Exists() || !v.GetFold("UP").Exists() {
		t.Error("Get is exact, GetFold folds")
	}
	if _, ok := v.Get("s").Float64(); ok {
		t.Error("a string read as a number")
	}
	if e, _ := Parse([]byte(`[]`)); e.Elems() == nil || len(e.Elems()) != 0 {
		t.Error("[] has no non-nil empty elements")
	}
	if l, ok := mustParse(t, `[]`).Strings(); !ok || l == nil {
		t.Error("[] is not a non-nil empty string list")
	}
}

func mustParse(t *testing.T, s string) Value {
	t.Helper()
	v, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Numbers: RFC 8259 §6 allows any magnitude; Float64 and Int64 say when one does not fit.
func TestNumbers(t *testing.T) {
	for _, tt := range []struct {
		in  string
		f   float64
		fOK bool
		i   int64
		iOK bool
	}{
		{"0", 0, true, 0, true},
		{"-0", 0, true, 0, true},
		{"1e400", 0, false, 0, false},
		{"-1e400", 0, false, 0, false},
		{"1e-400", 0, true, 0, false}, // underflow rounds to 0, as ParseFloat and encoding/json do
		{"1e308", 1e308, true, 0, false},
		{"9223372036854775807", 9223372036854775807, true, 9223372036854775807, true},
		{"9223372036854775808", 9223372036854775808, true, 0, false},
		{"-9223372036854775808", -9223372036854775808, true, -9223372036854775808, true},
		{"1.0", 1, true, 0, false},
		{"1e3", 1000, true, 0, false},
		{"3600", 3600, true, 3600, true},
	} {
		v := mustParse(t, tt.in)
		f, fOK := v.Float64()
		i, iOK := v.Int64()
		if f != tt.f || fOK != tt.fOK || i != tt.i || iOK != tt.iOK {
			t.Errorf("%s: Float64 %v %v, Int64 %v %v; want %v %v, %v %v", tt.in, f, fOK, i, iOK, tt.f, tt.fOK, tt.i, tt.iOK)
		}
	}
}

// FoldName must agree with strings.EqualFold, the rule encoding/json matched names with.
func TestFoldNameMatchesEqualFold(t *testing.T) {
	words := []string{"sub", "SUB", "ſub", "Sub", "kid", "\u212aid", "KID", "ß", "ẞ", "ss", "Σ", "σ", "ς", "ǅ", "ǆ", "Ǆ", "", "a", "A1_", "a1_"}
	for _, a := range words {
		for _, b := range words {
			if got, want := FoldName(a) == FoldName(b), strings.EqualFold(a, b); got != want {
				t.Errorf("FoldName(%q) == FoldName(%q) is %v, strings.EqualFold says %v", a, b, got, want)
			}
		}
	}
}

// Objects with many members switch to a map; duplicates are found on both sides of the switch.
func TestDuplicateInLargeObject(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		b.WriteString(`"m` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1,`)
	}
	ok := b.String() + `"last":1}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	for _, dup := range []string{`"MAA":2}`, `"Mab":2}`, `"mNb":2}`, `"LAST":1,"x":1}`} {
		in := strings.TrimSuffix(ok, "}") + "," + dup
		if got := reason(mustFail(t, in)); got != ReasonDuplicateName {
			t.Errorf("%s: reason %q", dup, got)
		}
	}
}

func mustFail(t *testing.T, s string) error {
	t.Helper()
	_, err := Parse([]byte(s))
	if err == nil {
		t.Fatalf("Parse(%.40q) accepted", s)
	}
	return err
}

// An error never quotes the document: it may be a token response.
func TestErrorDoesNotQuoteInput(t *testing.T) {
	secret := "eyJhbGciOiJSUzI1NiJ9secretsecret"
	for _, in := range []string{`{"access_token":"` + secret + `",}`, `{"` + secret + `":1,"` + secret + `":2}`, `"` + secret + "\xff\"", secret} {
		err := mustFail(t, in)
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q quotes the input", err)
		}
	}
}
