package strictjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

var encodeStrings = []string{
	"", "plain", `"quoted" and \back\slash`, "\x00\x01\b\f\n\r\t\x1f\x7f", "<script>&amp;</script>",
	"é 𝄞 \u2028 \u2029 \ufffd", "\xff invalid \xc3", "\xed\xa0\x80", "/", "k\u212a",
}

// AppendString writes what encoding/json's Marshal writes, byte for byte.
func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range encodeStrings {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// An ObjectWriter's output round-trips through encoding/json and through Parse.
func TestObjectWriterRoundTrips(t *testing.T) {
	var zero ObjectWriter
	if string(zero.Bytes()) != "{}" {
		t.Errorf("empty object %s", zero.Bytes())
	}
	var inner, w ObjectWriter
	inner.String("kty", "EC")
	inner.String("crv", "P-256")
	w.String("typ", "dpop+jwt")
	w.Object("jwk", &inner)
	w.Int("iat", -1234567890123)
	for i, s := range encodeStrings {
		w.String(string(rune('a'+i)), s)
	}
	b := w.Bytes()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if m["typ"] != "dpop+jwt" || m["iat"] != json.Number("-1234567890123") || m["jwk"].(map[string]any)["crv"] != "P-256" {
		t.Errorf("decoded %v", m)
	}
	want, _ := json.Marshal(struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
	}{"EC", "P-256"})
	if string(inner.Bytes()) != string(want) {
		t.Errorf("inner %s, want %s", inner.Bytes(), want)
	}
	v, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range encodeStrings {
		got, _ := v.Get(string(rune('a' + i))).Str()
		var viaStd string
		_ = json.Unmarshal(AppendString(nil, s), &viaStd)
		if got != viaStd {
			t.Errorf("%q came back as %q, encoding/json reads %q", s, got, viaStd)
		}
	}
	if string(w.Bytes()) != string(b) {
		t.Error("Bytes is not repeatable")
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range encodeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		got := AppendString(nil, s)
		if string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if _, err := Parse(got); err != nil {
			t.Fatalf("Parse(AppendString(%q)): %v", s, err)
		}
	})
}
