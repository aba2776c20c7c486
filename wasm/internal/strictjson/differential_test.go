package strictjson

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracle is what encoding/json says about data: whether it is valid JSON, the value decoded with
// UseNumber, and, from its token stream, whether an object repeats a name (exactly or under
// strings.EqualFold) and how deep containers nest.
type oracle struct {
	valid, dup bool
	depth      int
	v          any
}

func ask(data []byte) oracle {
	o := oracle{valid: json.Valid(data)}
	if !o.valid {
		return o
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	_ = dec.Decode(&o.v)
	type frame struct {
		names   []string // nil for an array
		obj     bool
		wantKey bool
	}
	var stack []*frame
	dec = json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return o
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if name, ok := tok.(string); ok && top != nil && top.obj && top.wantKey {
			for _, n := range top.names {
				o.dup = o.dup || strings.EqualFold(n, name)
			}
			top.names = append(top.names, name)
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{obj: tok == json.Delim('{'), wantKey: true})
			o.depth = max(o.depth, len(stack))
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return o
			}
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj {
			top.wantKey = true
		}
	}
}

// surrogateEscape finds a \u escape of a surrogate, which encoding/json turns into U+FFFD when
// unpaired.
var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)

// equal compares our tree with encoding/json's (numbers as json.Number literals).
func equal(v Value, x any) bool {
	switch x := x.(type) {
	case nil:
		return v.Kind() == Null
	case bool:
		b, ok := v.BoolValue()
		return ok && b == x
	case json.Number:
		l, ok := v.Literal()
		return ok && l == string(x)
	case string:
		s, ok := v.Str()
		return ok && s == x
	case []any:
		if v.Kind() != Array || len(v.Elems()) != len(x) {
			return false
		}
		for i, e := range v.Elems() {
			if !equal(e, x[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		if v.Kind() != Object || len(v.Members()) != len(x) {
			return false
		}
		for _, m := range v.Members() {
			if e, ok := x[m.Name]; !ok || !equal(m.Value, e) {
				return false
			}
		}
		return true
	}
	return false
}

// differential checks Parse against encoding/json:
//   - what we accept, encoding/json accepts, with an equal value, and every Raw text is the
//     value's valid JSON;
//   - what encoding/json accepts with valid UTF-8, we accept unless a rule of ours says otherwise
//     and the oracle confirms it: a (folded) duplicate name, nesting deeper than MaxDepth, or a
//     surrogate escape that is unpaired.
func differential(t *testing.T, data []byte) {
	v, err := Parse(data)
	o := ask(data)
	if err == nil {
		if !o.valid {
			t.Fatalf("Parse accepted %q, which encoding/json rejects", data)
		}
		if o.dup || o.depth > MaxDepth {
			t.Fatalf("Parse accepted %q with a duplicate name or nesting %d", data, o.depth)
		}
		if !equal(v, o.v) {
			t.Fatalf("Parse(%q) differs from encoding/json's %#v", data, o.v)
		}
		checkRaw(t, v)
		return
	}
	if !o.valid || !utf8.Valid(data) {
		return
	}
	switch r := reason(err); {
	case r == ReasonDuplicateName && o.dup:
	case r == ReasonDepth && o.depth > MaxDepth:
	case r == ReasonSurrogate && surrogateEscape.Match(data):
	default:
		t.Fatalf("Parse(%q) = %v, but encoding/json accepts it (dup %v, depth %d)", data, err, o.dup, o.depth)
	}
}

func checkRaw(t *testing.T, v Value) {
	if !json.Valid([]byte(v.Raw())) {
		t.Fatalf("Raw %q is not JSON", v.Raw())
	}
	for _, e := range v.Elems() {
		checkRaw(t, e)
	}
	for _, m := range v.Members() {
		checkRaw(t, m.Value)
	}
}

var differentialSeeds = []string{
	`{}`, `[]`, `{"a":1,"b":[true,false,null,"x",-0.5e-3,{"c":{}}]}`, `"\ud834\udd1e"`, `"\ud800"`,
	`{"a":1,"A":2}`, `{"sub":1,"ſub":2}`, `[01]`, `1e400`, `-0`, "\"\xff\"", `{"a":1}x`, ` [ 1 , 2 ] `,
	`{"access_token":"eyJ.eyJ.sig","token_type":"Bearer","expires_in":3600,"scope":"openid"}`,
	`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k"}]}`,
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), `"<>&\u2028"`, `"\u0000\u001f"`,
}

func TestDifferential(t *testing.T) {
	for _, s := range differentialSeeds {
		differential(t, []byte(s))
	}
}

func FuzzStrictJSON(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		differential(t, data)
	})
}
