//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
)

// Test helpers. Everything JS-side is built with the Function constructor and invoked from the
// test goroutine. A Promise can only settle while the test goroutine is blocked (Await, a channel,
// time.Sleep), because Go and JS share one thread.

// jsFunc returns new Function(params..., body).
func jsFunc(t *testing.T, paramsAndBody ...string) safejs.Value {
	t.Helper()
	ctor, err := safejs.Global().Get("Function")
	if err != nil {
		t.Fatalf("Function: %v", err)
	}
	args := make([]any, len(paramsAndBody))
	for i, s := range paramsAndBody {
		args[i] = s
	}
	f, err := ctor.New(args...)
	if err != nil {
		t.Fatalf("new Function(%q): %v", paramsAndBody, err)
	}
	return f
}

// jsEval evaluates the JS expression src (with optional named arguments) and returns its value.
func jsEval(t *testing.T, src string, names []string, args ...any) safejs.Value {
	t.Helper()
	f := jsFunc(t, append(append([]string(nil), names...), "return ("+src+");")...)
	v, err := f.Invoke(args...)
	if err != nil {
		t.Fatalf("evaluating %s: %v", src, err)
	}
	return v
}

// setGlobal installs globalThis[name] = v for the duration of the test and restores the previous
// property (or its absence) afterwards.
func setGlobal(t *testing.T, name string, v any) {
	t.Helper()
	install := jsFunc(t, "name", "value", `
		const d = Object.getOwnPropertyDescriptor(globalThis, name);
		Object.defineProperty(globalThis, name, {value, writable: true, configurable: true, enumerable: true});
		return () => { if (d) Object.defineProperty(globalThis, name, d); else delete globalThis[name]; };
	`)
	restore, err := install.Invoke(name, v)
	if err != nil {
		t.Fatalf("installing globalThis.%s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := restore.Invoke(); err != nil {
			t.Errorf("restoring globalThis.%s: %v", name, err)
		}
	})
}

// errorClass is a stand-in for the loader's PkceWasmError.
func errorClass(t *testing.T) safejs.Value {
	t.Helper()
	return jsEval(t, `class E extends Error{constructor(c,d){super(d);this.name="PkceWasmError";this.code=c;this.description=d}}`, nil)
}

// newTestBridge builds a Bridge with the stand-in error class. Install any fake global fetch
// before calling it: NewBridge captures globalThis.fetch once.
func newTestBridge(t *testing.T) *Bridge {
	t.Helper()
	b, err := NewBridge(errorClass(t))
	if err != nil {
		t.Fatalf("NewBridge: %v", err)
	}
	return b
}

// await waits (bounded) for a Promise.
func await(t *testing.T, p safejs.Value) (safejs.Value, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := Await(ctx, p)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("promise did not settle within 5 s")
	}
	return v, err
}

// rejection asserts err is a *Rejection and returns it.
func rejection(t *testing.T, err error) *Rejection {
	t.Helper()
	var rej *Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("error = %v (%T), want a *Rejection", err, err)
	}
	return rej
}

func str(t *testing.T, v safejs.Value, path string) string {
	t.Helper()
	p := prop(t, v, path)
	if p.Type() != safejs.TypeString {
		t.Fatalf("%s is %v, want a string", path, p.Type())
	}
	s, err := p.String()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func num(t *testing.T, v safejs.Value, path string) int {
	t.Helper()
	n, err := prop(t, v, path).Int()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

func truthy(t *testing.T, v safejs.Value, path string) bool {
	t.Helper()
	b, err := prop(t, v, path).Truthy()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// prop follows a dotted path of properties.
func prop(t *testing.T, v safejs.Value, path string) safejs.Value {
	t.Helper()
	for _, p := range strings.Split(path, ".") {
		var err error
		if v, err = v.Get(p); err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
	}
	return v
}

// wantCode asserts err is a *core.Error with the given code and returns its description.
func wantCode(t *testing.T, err error, code string) string {
	t.Helper()
	var ce *core.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *core.Error with code %s", err, err, code)
	}
	if ce.Code != code {
		t.Fatalf("error code = %q (%v), want %q", ce.Code, err, code)
	}
	return ce.Description
}

// waitFor polls cond (yielding to JS in between) until it holds or 2 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
