//go:build js && wasm

package jsbridge

import (
	"math"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// readAuthOptions reads the authorization request parameters an app may set on create and per
// login (core.AuthOptions): audience, resource (RFC 8707), maxAge and acrValues (OIDC Core
// §3.1.2.1), extraParams. Their values are checked in core; here only their JS types.
var authOptionKeys = []string{"audience", "resource", "maxAge", "acrValues", "extraParams"}

func (b *Bridge) readAuthOptions(o safejs.Value) (core.AuthOptions, error) {
	var a core.AuthOptions
	if o.Type() != safejs.TypeObject || o.IsNull() {
		return a, nil
	}
	bad := func(msg string) error { return &core.Error{Code: core.CodeInvalidConfig, Description: msg} }
	var err error
	if a.Audience, err = optString(o, "audience"); err != nil {
		return a, err
	}
	if a.ACRValues, err = optString(o, "acrValues"); err != nil {
		return a, err
	}
	if v, _ := o.Get("resource"); !v.IsUndefined() && !v.IsNull() {
		switch {
		case v.Type() == safejs.TypeString:
			s, _ := v.String()
			a.Resource = []string{s}
		case b.isArray(v):
			n, _ := v.Length()
			for i := 0; i < n; i++ {
				e, _ := v.Index(i)
				if e.Type() != safejs.TypeString {
					return a, bad("resource must be a URI string or an array of them")
				}
				s, _ := e.String()
				a.Resource = append(a.Resource, s)
			}
		default:
			return a, bad("resource must be a URI string or an array of them")
		}
	}
	if v, _ := o.Get("maxAge"); !v.IsUndefined() && !v.IsNull() {
		f, err := v.Float()
		if err != nil || v.Type() != safejs.TypeNumber || !(f >= 0 && f <= 1e9) || f != math.Trunc(f) {
			return a, bad("maxAge must be a whole number of seconds")
		}
		d := time.Duration(f) * time.Second
		a.MaxAge = &d
	}
	if v, _ := o.Get("extraParams"); !v.IsUndefined() && !v.IsNull() {
		if v.Type() != safejs.TypeObject || b.isArray(v) {
			return a, bad("extraParams must be an object of string values")
		}
		keys, err := b.objectCtor.Call("keys", v)
		if err != nil {
			return a, err
		}
		n, _ := keys.Length()
		a.ExtraParams = make(map[string]string, n)
		for i := 0; i < n; i++ {
			k, _ := keys.Index(i)
			ks, _ := k.String()
			val, _ := v.Get(ks)
			if val.Type() != safejs.TypeString {
				return a, bad("extraParams." + ks + " must be a string")
			}
			a.ExtraParams[ks], _ = val.String()
		}
	}
	return a, nil
}

func (b *Bridge) isArray(v safejs.Value) bool {
	isArray, err := b.global.Get("Array")
	if err != nil {
		return false
	}
	ok, err := isArray.Call("isArray", v)
	if err != nil {
		return false
	}
	t, _ := ok.Bool()
	return t
}
