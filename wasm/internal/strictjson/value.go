package strictjson

import (
	"strconv"
	"strings"
)

// Kind is the type of a JSON value (RFC 8259 §3).
type Kind uint8

const (
	Invalid Kind = iota // the zero Value: an absent member or element
	Null
	Bool
	Number
	String
	Array
	Object
)

// Value is one parsed JSON value. The zero Value is Invalid and stands for "absent".
type Value struct {
	kind    Kind
	b       bool
	s       string  // a String's decoded text, or a Number's literal
	raw     string  // the value's own text as it appeared in the document
	elems   []Value // Array
	members []Member
}

// Member is one name/value pair of an object (RFC 8259 §4), in document order.
type Member struct {
	Name  string
	Value Value
}

// Kind reports the value's type; Invalid for the zero Value.
func (v Value) Kind() Kind { return v.kind }

// Exists reports whether v is a value at all (not the zero Value of an absent member).
func (v Value) Exists() bool { return v.kind != Invalid }

// IsNull reports whether v is the literal null.
func (v Value) IsNull() bool { return v.kind == Null }

// Raw returns the value's text exactly as it appeared in the parsed document, whitespace
// inside it included: what a JavaScript consumer (JSON.parse, WebCrypto's JWK import) is given.
func (v Value) Raw() string { return v.raw }

// Str returns a string's text; ok is false for any other kind.
func (v Value) Str() (s string, ok bool) {
	if v.kind != String {
		return "", false
	}
	return v.s, true
}

// BoolValue returns a boolean; ok is false for any other kind.
func (v Value) BoolValue() (b, ok bool) { return v.b, v.kind == Bool }

// Literal returns a number's text as it appeared (RFC 8259 §6 grammar); ok is false for any
// other kind.
func (v Value) Literal() (string, bool) {
	if v.kind != Number {
		return "", false
	}
	return v.s, true
}

// Float64 returns a number as the nearest float64; ok is false for other kinds and for numbers
// whose magnitude overflows float64 (1e400): RFC 7493 §2.2 expects IEEE 754 doubles.
func (v Value) Float64() (float64, bool) {
	if v.kind != Number {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// Int64 returns a number that is written as an integer (no fraction, no exponent) and fits in an
// int64; ok is false otherwise.
func (v Value) Int64() (int64, bool) {
	if v.kind != Number {
		return 0, false
	}
	n, err := strconv.ParseInt(v.s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Elems returns an array's elements; nil for any other kind.
func (v Value) Elems() []Value { return v.elems }

// Members returns an object's members in document order; nil for any other kind.
func (v Value) Members() []Member { return v.members }

// Get returns the member named exactly name, or the zero Value.
func (v Value) Get(name string) Value {
	for i := range v.members {
		if v.members[i].Name == name {
			return v.members[i].Value
		}
	}
	return Value{}
}

// GetFold returns the member whose name equals name under Unicode case folding, or the zero
// Value. Parse rejects objects with two such members, so there is at most one.
func (v Value) GetFold(name string) Value {
	for i := range v.members {
		if strings.EqualFold(v.members[i].Name, name) {
			return v.members[i].Value
		}
	}
	return Value{}
}

// Strings returns an array whose elements are strings or null (read as ""), as a non-nil slice;
// ok is false for any other value.
func (v Value) Strings() ([]string, bool) {
	if v.kind != Array {
		return nil, false
	}
	out := make([]string, len(v.elems))
	for i, e := range v.elems {
		switch e.kind {
		case String:
			out[i] = e.s
		case Null:
		default:
			return nil, false
		}
	}
	return out, true
}
