package core

import (
	"encoding/json"
	"strings"
	"unicode"
)

// decodeJSONObject decodes a JSON object into v, rejecting other JSON values, trailing data and
// duplicate members in any object of the document (see checkUniqueMembers).
func decodeJSONObject(body []byte, v any) error {
	b := strings.TrimLeft(string(body), " \t\r\n")
	if !strings.HasPrefix(b, "{") {
		return errNotObject
	}
	if err := checkUniqueMembers(b); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Only JSON whitespace may follow (dec.More would miss a stray "}" or "]").
	if strings.TrimLeft(b[dec.InputOffset():], " \t\r\n") != "" {
		return errNotObject
	}
	return nil
}

// checkUniqueMembers fails when one object of the document, at any depth, has two members whose
// names are equal or equal under Unicode simple case folding.
//
// RFC 8259 §4 leaves duplicate names to the parser, and parsers disagree: JavaScript's JSON.parse
// keeps the last of two exact duplicates, while encoding/json matches member names to struct
// fields case-insensitively with Unicode folding ("ſub" and "SUB" both fill Sub), the last match
// winning. So {"sub":"alice","ſub":"bob"} would be validated as bob here and shown as alice to
// the app. RFC 6749 §3.2 and §5.1 ("MUST NOT be included more than once") and RFC 7515 §4 / RFC
// 7519 §4 (JOSE header and claim names "MUST be unique"; we reject rather than take the last) make
// a repeated member an error, and we extend that to names that only differ by case, which no
// registered OAuth, JOSE or OIDC member does. Sibling objects and different levels are separate:
// {"a":{"x":1},"b":{"x":2}} is fine.
func checkUniqueMembers(b string) error {
	dec := json.NewDecoder(strings.NewReader(b))
	// One frame per open object or array. In an object, names alternate with values.
	type frame struct {
		names   map[string]bool // folded names seen; nil for an array
		wantKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.names != nil && top.wantKey {
			if name, ok := tok.(string); ok {
				k := foldName(name)
				if top.names[k] {
					return errDuplicateMember
				}
				top.names[k] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{names: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil // the first value is complete; decodeJSONObject checks what follows
			}
			top = stack[len(stack)-1]
		}
		// A value (scalar or just-closed container) completed inside top.
		if top != nil && top.names != nil {
			top.wantKey = true
		}
	}
}

// foldName maps s to a key such that foldName(a) == foldName(b) exactly when strings.EqualFold(a, b),
// the comparison encoding/json uses for member names: every rune becomes the smallest rune of its
// Unicode simple folding orbit (so "ſ" and "S" become "S", the Kelvin sign "K" becomes "K").
func foldName(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		sb.WriteRune(min)
	}
	return sb.String()
}

const errDuplicateMember = constError("duplicate JSON member")

type constError string

func (e constError) Error() string { return string(e) }

const errNotObject = constError("not a single JSON object")
