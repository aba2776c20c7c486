//go:build js && wasm

package jsbridge

import (
	"errors"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
)

// newMapStorage returns a Map-backed stand-in for window.sessionStorage (Node has none). Its Map
// is exposed as _map so tests can look inside.
func newMapStorage(t *testing.T) safejs.Value {
	t.Helper()
	return jsEval(t, `(() => {
		const m = new Map();
		return {
			_map: m,
			getItem(k) { k = String(k); return m.has(k) ? m.get(k) : null; },
			setItem(k, v) { m.set(String(k), String(v)); },
			removeItem(k) { m.delete(String(k)); },
			clear() { m.clear(); },
			key(i) { return [...m.keys()][i] ?? null; },
			get length() { return m.size; },
		};
	})()`, nil)
}

func mapHas(t *testing.T, storage safejs.Value, key string) bool {
	t.Helper()
	v, err := prop(t, storage, "_map").Call("has", key)
	if err != nil {
		t.Fatalf("Map.has: %v", err)
	}
	b, _ := v.Bool()
	return b
}

func TestNewSessionStoreMissing(t *testing.T) {
	setGlobal(t, "sessionStorage", safejs.Undefined())
	if s, err := NewSessionStore(); err == nil {
		t.Fatalf("NewSessionStore() = %v, nil without a sessionStorage", s)
	} else if !errors.Is(err, errNoSessionStorage) {
		t.Errorf("error = %v, want errNoSessionStorage", err)
	}
	setGlobal(t, "sessionStorage", safejs.Null())
	if s, err := NewSessionStore(); err == nil {
		t.Fatalf("NewSessionStore() = %v, nil with sessionStorage = null", s)
	}
}

// throwingSessionStorageGetter makes reading globalThis.sessionStorage throw, as browsers do in
// sandboxed iframes and with storage blocked.
func throwingSessionStorageGetter(t *testing.T) {
	t.Helper()
	restore := jsEval(t, `(() => {
		const d = Object.getOwnPropertyDescriptor(globalThis, "sessionStorage");
		Object.defineProperty(globalThis, "sessionStorage", {configurable: true,
			get() { throw new DOMException("The operation is insecure.", "SecurityError"); }});
		return () => { if (d) Object.defineProperty(globalThis, "sessionStorage", d); else delete globalThis.sessionStorage; };
	})()`, nil)
	t.Cleanup(func() { _, _ = restore.Invoke() })
}

// NewSessionStore documents that a throwing sessionStorage getter yields an error. It does not:
// safejs.Value.Get cannot catch a throwing getter, because wasm_exec.js's syscall/js.valueGet calls
// Reflect.get without try/catch (valueCall, valueInvoke and valueNew do catch), so the JS
// exception unwinds through the Go runtime and kills it. NewSessionStore therefore reads it with
// Reflect.get through a call (see TestReflectGetCatchesThrowingGetter).
func TestNewSessionStoreThrowingGetter(t *testing.T) {
	throwingSessionStorageGetter(t)
	if s, err := NewSessionStore(); err == nil {
		t.Fatalf("NewSessionStore() = %v, nil although reading sessionStorage throws", s)
	} else if !strings.Contains(err.Error(), "insecure") {
		t.Errorf("error %q does not carry the JS message", err)
	}
}

// The fix for the bug above: Reflect.get through Value.Call, which wasm_exec.js does guard.
func TestReflectGetCatchesThrowingGetter(t *testing.T) {
	throwingSessionStorageGetter(t)
	reflect := prop(t, safejs.Global(), "Reflect")
	_, err := reflect.Call("get", safejs.Global(), "sessionStorage")
	if err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Fatalf("Reflect.get via Call = %v; want the SecurityError as a Go error", err)
	}
}

func TestSessionStorePutTake(t *testing.T) {
	storage := newMapStorage(t)
	setGlobal(t, "sessionStorage", storage)
	s, err := NewSessionStore()
	if err != nil {
		t.Fatalf("NewSessionStore: %v", err)
	}
	const key, value = "pkce-wasm.tx.abc", `{"state":"abc","nonce":"n"}`
	if err := s.Put(key, value); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if !mapHas(t, storage, key) {
		t.Fatalf("Put did not write %q into sessionStorage", key)
	}
	if got, _ := jsEval(t, `s.getItem(k)`, []string{"s", "k"}, storage, key).String(); got != value {
		t.Fatalf("sessionStorage holds %q, want %q", got, value)
	}
	got, ok, err := s.Take(key)
	if err != nil || !ok || got != value {
		t.Fatalf("Take = %q, %v, %v; want %q, true, nil", got, ok, err, value)
	}
	if mapHas(t, storage, key) {
		t.Fatalf("Take left %q in sessionStorage", key)
	}
	got, ok, err = s.Take(key)
	if err != nil || ok || got != "" {
		t.Fatalf("second Take = %q, %v, %v; want \"\", false, nil", got, ok, err)
	}
	if _, ok, err := s.Take("never-stored"); err != nil || ok {
		t.Fatalf("Take(never-stored) = _, %v, %v; want false, nil", ok, err)
	}
}

func TestSessionStoreEmptyValue(t *testing.T) {
	setGlobal(t, "sessionStorage", newMapStorage(t))
	s, err := NewSessionStore()
	if err != nil {
		t.Fatalf("NewSessionStore: %v", err)
	}
	if err := s.Put("k", ""); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, ok, err := s.Take("k"); err != nil || !ok || got != "" {
		t.Fatalf("Take of an empty value = %q, %v, %v; want \"\", true, nil", got, ok, err)
	}
}

func TestSessionStoreQuotaExceeded(t *testing.T) {
	storage := newMapStorage(t)
	if _, err := jsFunc(t, "s", `s.setItem = () => { throw new DOMException("Setting the value exceeded the quota.", "QuotaExceededError"); };`).Invoke(storage); err != nil {
		t.Fatal(err)
	}
	setGlobal(t, "sessionStorage", storage)
	s, err := NewSessionStore()
	if err != nil {
		t.Fatalf("NewSessionStore: %v", err)
	}
	err = s.Put("k", "v")
	if err == nil {
		t.Fatal("Put succeeded although setItem threw")
	}
	if !strings.Contains(err.Error(), "quota") {
		t.Errorf("Put error %q does not carry the JS message", err)
	}
}

func TestSessionStoreThrowingGetAndRemove(t *testing.T) {
	storage := newMapStorage(t)
	setGlobal(t, "sessionStorage", storage)
	s, err := NewSessionStore()
	if err != nil {
		t.Fatalf("NewSessionStore: %v", err)
	}
	if err := s.Put("k", "v"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := jsFunc(t, "s", `s.removeItem = () => { throw new Error("remove failed"); };`).Invoke(storage); err != nil {
		t.Fatal(err)
	}
	// Take must not report success when it could not delete: a transaction that survives Take
	// could be replayed.
	if got, ok, err := s.Take("k"); err == nil || ok {
		t.Fatalf("Take with a throwing removeItem = %q, %v, %v; want an error and ok=false", got, ok, err)
	}
	if _, err := jsFunc(t, "s", `s.getItem = () => { throw new Error("get failed"); };`).Invoke(storage); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Take("k"); err == nil || ok || !strings.Contains(err.Error(), "get failed") {
		t.Fatalf("Take with a throwing getItem = _, %v, %v; want an error carrying \"get failed\"", ok, err)
	}
}
