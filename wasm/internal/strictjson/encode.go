package strictjson

import (
	"strconv"
	"unicode/utf8"
)

// ObjectWriter writes one JSON object (RFC 8259 §4) member by member, in the order of the calls,
// without whitespace. The zero ObjectWriter is an empty object. The caller keeps names unique.
type ObjectWriter struct{ buf []byte }

func (w *ObjectWriter) name(name string) {
	if len(w.buf) == 0 {
		w.buf = append(w.buf, '{')
	} else {
		w.buf = append(w.buf, ',')
	}
	w.buf = AppendString(w.buf, name)
	w.buf = append(w.buf, ':')
}

// String adds a string member.
func (w *ObjectWriter) String(name, value string) {
	w.name(name)
	w.buf = AppendString(w.buf, value)
}

// Int adds an integer member.
func (w *ObjectWriter) Int(name string, n int64) {
	w.name(name)
	w.buf = strconv.AppendInt(w.buf, n, 10)
}

// Object adds a member whose value is the object o has written so far.
func (w *ObjectWriter) Object(name string, o *ObjectWriter) {
	w.name(name)
	w.buf = append(w.buf, o.Bytes()...)
}

// Bytes returns the object written so far, closed. The writer can go on adding members.
func (w *ObjectWriter) Bytes() []byte {
	if len(w.buf) == 0 {
		return []byte("{}")
	}
	return append(w.buf[:len(w.buf):len(w.buf)], '}')
}

// AppendString appends s as a JSON string (RFC 8259 §7), escaped exactly as encoding/json's
// Marshal does, so that output stays byte-identical to what the client wrote before: ", \ and the
// control characters escaped (\b \f \n \r \t, else \u00XX), <, > and & as \u003c \u003e \u0026,
// U+2028 and U+2029 as \u2028 \u2029 (they end a line in JavaScript), and each byte of invalid
// UTF-8 as \ufffd.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
