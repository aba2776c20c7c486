package core

import (
	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
)

// parseJSONObject parses body as one JSON object under strictjson's rules: RFC 8259 grammar,
// nothing but whitespace after the object, valid UTF-8 and no unpaired surrogate escapes (I-JSON,
// RFC 7493 §2.1, §2.2), and no object at any depth with two members whose names are equal or
// equal under Unicode simple case folding.
//
// RFC 8259 §4 leaves duplicate names to the parser, and parsers disagree: JavaScript's JSON.parse
// keeps the last of two exact duplicates, while a case-insensitive reader (encoding/json, which
// this client used before, matches "ſub" and "SUB" to Sub) may take another. So
// {"sub":"alice","ſub":"bob"} could be validated as bob here and shown as alice to the app. RFC
// 6749 §3.2 and §5.1 ("MUST NOT be included more than once") and RFC 7515 §4 / RFC 7519 §4 (JOSE
// header and claim names "MUST be unique"; we reject rather than take the last) make a repeated
// member an error, and we extend that to names that only differ by case, which no registered
// OAuth, JOSE or OIDC member does. Sibling objects and different levels are separate:
// {"a":{"x":1},"b":{"x":2}} is fine.
func parseJSONObject(body []byte) (strictjson.Value, error) {
	v, err := strictjson.Parse(body)
	if err != nil {
		return strictjson.Value{}, err
	}
	if v.Kind() != strictjson.Object {
		return strictjson.Value{}, errNotObject
	}
	return v, nil
}

// members reads the members of one object the way the struct decoding this client used before
// did, so that what it accepts has not changed: a name matches case-insensitively (member names
// are unique under folding, so at most one does), an absent member or null leaves the zero value,
// and a member of the wrong JSON type is an error (the first one is kept in err).
type members struct {
	obj strictjson.Value
	err error
}

// get returns the member matching name, or the zero (absent) Value.
func (m *members) get(name string) strictjson.Value { return m.obj.GetFold(name) }

func (m *members) fail() { m.err = errMemberType }

// str reads a string member.
func (m *members) str(name string) string {
	v := m.get(name)
	s, ok := v.Str()
	if !ok && v.Exists() && !v.IsNull() {
		m.fail()
	}
	return s
}

// strs reads an array of strings: nil when absent or null, non-nil (maybe empty) otherwise; a null
// element reads as "".
func (m *members) strs(name string) []string {
	v := m.get(name)
	if !v.Exists() || v.IsNull() {
		return nil
	}
	l, ok := v.Strings()
	if !ok {
		m.fail()
	}
	return l
}

// boolean reads a true/false member.
func (m *members) boolean(name string) bool {
	v := m.get(name)
	b, ok := v.BoolValue()
	if !ok && v.Exists() && !v.IsNull() {
		m.fail()
	}
	return b
}

// jsonString returns the text of a value that must be a string. Absent or null gives ("", false).
func jsonString(v strictjson.Value) (string, bool) { return v.Str() }

type constError string

func (e constError) Error() string { return string(e) }

const (
	errNotObject  = constError("not a single JSON object")
	errMemberType = constError("a JSON member has the wrong type")
)
