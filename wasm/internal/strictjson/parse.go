package strictjson

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is how many arrays and objects may nest. Provider documents nest 3 or 4 levels deep;
// the limit bounds the parser's recursion on hostile input.
const MaxDepth = 100

// Error is why a document was rejected. It never quotes the document, which may hold tokens.
type Error struct {
	Offset int    // byte offset in the document where the problem was found
	Reason string // a fixed phrase, e.g. ReasonDuplicateName
}

func (e *Error) Error() string {
	return "strictjson: " + e.Reason + " at offset " + strconv.Itoa(e.Offset)
}

// Reasons an Error gives.
const (
	ReasonSyntax        = "malformed JSON"                          // RFC 8259 grammar
	ReasonTrailingData  = "data after the JSON value"               // RFC 8259 §2: one value
	ReasonDuplicateName = "duplicate member name"                   // RFC 7493 §2.3, and case folding
	ReasonUTF8          = "invalid UTF-8"                           // RFC 8259 §8.1, RFC 7493 §2.1
	ReasonSurrogate     = "unpaired surrogate escape"               // RFC 7493 §2.2
	ReasonDepth         = "nesting deeper than strictjson.MaxDepth" //
)

// Parse parses data as exactly one JSON value with optional surrounding whitespace, under the
// rules of the package documentation.
func Parse(data []byte) (Value, error) {
	p := parser{src: string(data)} // one copy; every string and raw text below shares it
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return Value{}, p.fail(ReasonTrailingData)
	}
	return v, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) fail(reason string) *Error { return &Error{Offset: p.pos, Reason: reason} }

// skipSpace skips RFC 8259 §2 whitespace: space, tab, line feed, carriage return.
func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at p.pos; depth is how many containers enclose it.
func (p *parser) value(depth int) (Value, error) {
	if p.pos >= len(p.src) {
		return Value{}, p.fail(ReasonSyntax)
	}
	start := p.pos
	var v Value
	var err error
	switch c := p.src[p.pos]; {
	case c == '{':
		v, err = p.object(depth + 1)
	case c == '[':
		v, err = p.array(depth + 1)
	case c == '"':
		v.kind = String
		v.s, err = p.str()
	case c == '-' || c >= '0' && c <= '9':
		v.kind = Number
		err = p.number()
		v.s = p.src[start:p.pos]
	default:
		v, err = p.literal()
	}
	if err != nil {
		return Value{}, err
	}
	v.raw = p.src[start:p.pos]
	return v, nil
}

// literal parses true, false or null (RFC 8259 §3).
func (p *parser) literal() (Value, error) {
	for _, l := range [...]struct {
		text string
		v    Value
	}{{"true", Value{kind: Bool, b: true}}, {"false", Value{kind: Bool}}, {"null", Value{kind: Null}}} {
		if len(p.src)-p.pos >= len(l.text) && p.src[p.pos:p.pos+len(l.text)] == l.text {
			p.pos += len(l.text)
			return l.v, nil
		}
	}
	return Value{}, p.fail(ReasonSyntax)
}

// number checks RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
// A leading zero followed by a digit ends the number at the zero, and the digit is then a syntax
// error where the caller expects a separator.
func (p *parser) number() error {
	if p.src[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return p.fail(ReasonSyntax)
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return p.fail(ReasonSyntax)
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return p.fail(ReasonSyntax)
		}
	}
	return nil
}

func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

func (p *parser) array(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(ReasonDepth)
	}
	p.pos++ // [
	v := Value{kind: Array, elems: []Value{}}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		e, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		v.elems = append(v.elems, e)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return Value{}, p.fail(ReasonSyntax)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return Value{}, p.fail(ReasonSyntax)
		}
	}
}

// foldedIndexAt: objects with more members than this check names through a map.
const foldedIndexAt = 16

func (p *parser) object(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, p.fail(ReasonDepth)
	}
	p.pos++ // {
	v := Value{kind: Object, members: []Member{}}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	var folded []string       // the folded names so far, while there are few
	var index map[string]bool // the same, once there are many
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return Value{}, p.fail(ReasonSyntax)
		}
		nameAt := p.pos
		name, err := p.str()
		if err != nil {
			return Value{}, err
		}
		k := FoldName(name)
		dup := false
		if index != nil {
			dup = index[k]
			index[k] = true
		} else {
			for _, f := range folded {
				dup = dup || f == k
			}
			folded = append(folded, k)
			if len(folded) > foldedIndexAt {
				index = make(map[string]bool, 2*len(folded))
				for _, f := range folded {
					index[f] = true
				}
			}
		}
		if dup {
			return Value{}, &Error{Offset: nameAt, Reason: ReasonDuplicateName}
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return Value{}, p.fail(ReasonSyntax)
		}
		p.pos++
		p.skipSpace()
		mv, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		v.members = append(v.members, Member{Name: name, Value: mv})
		// The same ending as array's loop, on purpose: a shared helper cost 2.7 KB brotli.
		p.skipSpace()
		if p.pos >= len(p.src) {
			return Value{}, p.fail(ReasonSyntax)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return Value{}, p.fail(ReasonSyntax)
		}
	}
}

// str parses the string at p.pos (RFC 8259 §7) and returns its text. Without escapes the text is
// a substring of the document (no copy).
func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			s := p.src[start:p.pos]
			p.pos++
			return s, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", p.fail(ReasonSyntax) // control characters must be escaped
		case c < utf8.RuneSelf:
			p.pos++
		default:
			if err := p.utf8Rune(); err != nil {
				return "", err
			}
		}
	}
	return "", p.fail(ReasonSyntax)
}

// utf8Rune steps over one multi-byte UTF-8 sequence, rejecting invalid ones (which include
// encoded surrogates and overlong forms). A literal U+FFFD is valid and kept.
func (p *parser) utf8Rune() error {
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	if r == utf8.RuneError && size == 1 {
		return p.fail(ReasonUTF8)
	}
	p.pos += size
	return nil
}

// strEscaped continues str from the first backslash, building the text in a buffer.
func (p *parser) strEscaped(start int) (string, error) {
	buf := make([]byte, 0, p.pos-start+16)
	buf = append(buf, p.src[start:p.pos]...)
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
		case c < 0x20:
			return "", p.fail(ReasonSyntax)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.pos++
		default:
			at := p.pos
			if err := p.utf8Rune(); err != nil {
				return "", err
			}
			buf = append(buf, p.src[at:p.pos]...)
		}
	}
	return "", p.fail(ReasonSyntax)
}

// escape decodes one escape sequence at p.pos (RFC 8259 §7). A \u escape of a high surrogate
// must be followed by one of a low surrogate, and a low surrogate must follow a high one
// (RFC 7493 §2.2: no unpaired surrogates).
func (p *parser) escape() (rune, error) {
	if p.pos+1 >= len(p.src) {
		return 0, p.fail(ReasonSyntax)
	}
	c := p.src[p.pos+1]
	switch c {
	case '"', '\\', '/':
		p.pos += 2
		return rune(c), nil
	case 'b', 'f', 'n', 'r', 't':
		p.pos += 2
		return rune("\b\f\n\r\t"[strings.IndexByte("bfnrt", c)]), nil
	case 'u':
	default:
		return 0, p.fail(ReasonSyntax)
	}
	at := p.pos
	r, ok := p.hex4()
	if !ok {
		return 0, p.fail(ReasonSyntax)
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, &Error{Offset: at, Reason: ReasonSurrogate}
	case r >= 0xD800 && r <= 0xDBFF:
		if p.pos+1 >= len(p.src) || p.src[p.pos] != '\\' || p.src[p.pos+1] != 'u' {
			return 0, &Error{Offset: at, Reason: ReasonSurrogate}
		}
		lo, ok := p.hex4()
		if !ok {
			return 0, p.fail(ReasonSyntax)
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			return 0, &Error{Offset: at, Reason: ReasonSurrogate}
		}
		return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), nil
	}
	return r, nil
}

// hex4 reads "\uXXXX" at p.pos.
func (p *parser) hex4() (rune, bool) {
	if len(p.src)-p.pos < 6 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.src[p.pos+2 : p.pos+6]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.pos += 6
	return r, true
}

// FoldName maps s to a key such that FoldName(a) == FoldName(b) exactly when
// strings.EqualFold(a, b) (for valid UTF-8): every rune becomes the smallest rune of its Unicode
// simple folding orbit, so "ſ" and "s" become "S", and the Kelvin sign "K" becomes "K".
func FoldName(s string) string {
	ascii, lower := true, false
	for i := 0; i < len(s); i++ {
		ascii = ascii && s[i] < utf8.RuneSelf
		lower = lower || s[i] >= 'a' && s[i] <= 'z'
	}
	if ascii && !lower {
		return s
	}
	buf := make([]byte, 0, len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		buf = utf8.AppendRune(buf, min)
	}
	return string(buf)
}
