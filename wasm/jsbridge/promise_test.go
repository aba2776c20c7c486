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

func TestNewPromiseResolves(t *testing.T) {
	b := newTestBridge(t)
	p := b.NewPromise(func(context.Context) (any, error) { return "hello", nil })
	if ok, _ := p.InstanceOf(b.promiseCtor); !ok {
		t.Fatalf("NewPromise returned %v, want a Promise", p.Type())
	}
	v, err := await(t, p)
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	if s, _ := v.String(); v.Type() != safejs.TypeString || s != "hello" {
		t.Fatalf("resolved with %v %q, want \"hello\"", v.Type(), s)
	}

	// A JS value passes through as itself.
	obj := jsEval(t, `({marker: 42})`, nil)
	v, err = await(t, b.NewPromise(func(context.Context) (any, error) { return obj, nil }))
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	if !v.Equal(obj) {
		t.Fatalf("resolved with another object than the one returned by work")
	}
}

func TestNewPromiseRejectsWithErrorClass(t *testing.T) {
	b := newTestBridge(t)
	_, err := await(t, b.NewPromise(func(context.Context) (any, error) {
		return nil, &core.Error{Code: core.CodeStateMismatch, Description: "no login is pending"}
	}))
	rej := rejection(t, err)
	if ok, _ := rej.Value.InstanceOf(b.errorCtor); !ok {
		t.Fatalf("rejection value is not an instance of the error class")
	}
	if got := str(t, rej.Value, "code"); got != core.CodeStateMismatch {
		t.Errorf("code = %q, want %q", got, core.CodeStateMismatch)
	}
	if got := str(t, rej.Value, "description"); got != "no login is pending" {
		t.Errorf("description = %q, want the core.Error's Description", got)
	}
	if rej.Message != "no login is pending" {
		t.Errorf("Rejection.Message = %q, want the JS error's message", rej.Message)
	}
	if c, _ := rej.Value.Get("cause"); !c.IsUndefined() {
		t.Errorf("cause set on an error without a JS cause")
	}
}

func TestNewPromiseRejectsNonCoreErrorAsInternal(t *testing.T) {
	b := newTestBridge(t)
	_, err := await(t, b.NewPromise(func(context.Context) (any, error) { return nil, errors.New("boom") }))
	rej := rejection(t, err)
	if got := str(t, rej.Value, "code"); got != core.CodeInternal {
		t.Errorf("code = %q, want %q", got, core.CodeInternal)
	}
	if got := str(t, rej.Value, "description"); got != "boom" {
		t.Errorf("description = %q, want \"boom\"", got)
	}
}

func TestNewPromiseRejectionCarriesJSCause(t *testing.T) {
	b := newTestBridge(t)
	cause := jsEval(t, `new TypeError("Failed to fetch")`, nil)
	_, err := await(t, b.NewPromise(func(context.Context) (any, error) {
		return nil, &core.Error{Code: core.CodeNetworkError, Description: "fetch failed", Err: newRejection(cause)}
	}))
	rej := rejection(t, err)
	if got := str(t, rej.Value, "code"); got != core.CodeNetworkError {
		t.Errorf("code = %q, want %q", got, core.CodeNetworkError)
	}
	if c := prop(t, rej.Value, "cause"); !c.Equal(cause) {
		t.Errorf("cause is not the JS value the Rejection held")
	}
}

func TestNewPromiseBrokenErrorClassFallsBackToString(t *testing.T) {
	b, err := NewBridge(safejs.Undefined()) // new undefined(...) throws
	if err != nil {
		t.Fatalf("NewBridge: %v", err)
	}
	_, err = await(t, b.NewPromise(func(context.Context) (any, error) {
		return nil, &core.Error{Code: core.CodeLoginRequired, Description: "not signed in"}
	}))
	rej := rejection(t, err)
	if s, _ := rej.Value.String(); rej.Value.Type() != safejs.TypeString || s != "login_required: not signed in" {
		t.Fatalf("rejected with %v %q, want the string \"login_required: not signed in\"", rej.Value.Type(), s)
	}
}

func TestNewPromisePanicRejectsAndRuntimeSurvives(t *testing.T) {
	b := newTestBridge(t)
	_, err := await(t, b.NewPromise(func(context.Context) (any, error) {
		var m map[string]int
		m["x"] = 1 // nil map write: a real runtime panic
		return nil, nil
	}))
	rej := rejection(t, err)
	if got := str(t, rej.Value, "code"); got != core.CodeInternal {
		t.Errorf("code = %q, want %q", got, core.CodeInternal)
	}
	if got := str(t, rej.Value, "description"); !strings.Contains(got, "panic") {
		t.Errorf("description = %q, want it to mention the panic", got)
	}

	v, err := await(t, b.NewPromise(func(context.Context) (any, error) { return 7, nil }))
	if err != nil {
		t.Fatalf("second promise rejected after a panic: %v", err)
	}
	if n, _ := v.Int(); n != 7 {
		t.Fatalf("second promise resolved with %d, want 7", n)
	}
}

func TestAwaitFulfilled(t *testing.T) {
	v, err := await(t, jsEval(t, `new Promise(r => setTimeout(() => r({answer: 42}), 10))`, nil))
	if err != nil {
		t.Fatalf("Await: %v", err)
	}
	if got := num(t, v, "answer"); got != 42 {
		t.Fatalf("answer = %d, want 42", got)
	}

	// A non-Promise thenable works too.
	v, err = await(t, jsEval(t, `({then(ok) { ok("thenable"); }})`, nil))
	if s, _ := v.String(); err != nil || s != "thenable" {
		t.Fatalf("Await(thenable) = %q, %v", s, err)
	}
}

func TestAwaitRejected(t *testing.T) {
	_, err := await(t, jsEval(t, `Promise.reject(new RangeError("out of range"))`, nil))
	rej := rejection(t, err)
	if rej.Message != "out of range" || rej.Error() != "out of range" {
		t.Errorf("Message = %q, Error() = %q, want \"out of range\"", rej.Message, rej.Error())
	}
	if got := str(t, rej.Value, "name"); got != "RangeError" {
		t.Errorf("Value.name = %q, want RangeError (the rejected JS value itself)", got)
	}

	// A rejection with a non-Error value still yields a usable message.
	_, err = await(t, jsEval(t, `Promise.reject("plain string")`, nil))
	if rej := rejection(t, err); rej.Message != "plain string" {
		t.Errorf("Message = %q, want \"plain string\"", rej.Message)
	}
	_, err = await(t, jsEval(t, `Promise.reject(undefined)`, nil))
	if rej := rejection(t, err); rej.Message == "" {
		t.Errorf("empty Message for Promise.reject(undefined)")
	}
}

func TestAwaitContextCancelled(t *testing.T) {
	never := jsEval(t, `new Promise(() => {})`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Await(ctx, never)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Await took %v to notice the cancellation", d)
	}

	// Already cancelled.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := Await(ctx, never); !errors.Is(err, context.Canceled) {
		t.Fatalf("Await(cancelled ctx) = %v, want context.Canceled", err)
	}
}

func TestAwaitLateSettlementAfterCancelIsSurvivable(t *testing.T) {
	late := jsEval(t, `new Promise(r => setTimeout(() => r("late"), 40))`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := Await(ctx, late); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await = %v, want context.DeadlineExceeded", err)
	}
	time.Sleep(80 * time.Millisecond) // the promise settles and calls the released callbacks
	v, err := await(t, jsEval(t, `Promise.resolve("still alive")`, nil))
	if s, _ := v.String(); err != nil || s != "still alive" {
		t.Fatalf("Await after a late settlement = %q, %v", s, err)
	}
}

func TestAwaitNonThenable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := Await(ctx, jsEval(t, `42`, nil)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await(42) = %v, want an immediate error (no then method)", err)
	}
}

func TestFuncPanicReturnsRejectedPromise(t *testing.T) {
	b := newTestBridge(t)
	f, err := b.Func(func([]safejs.Value) any { panic("bug") })
	if err != nil {
		t.Fatalf("Func: %v", err)
	}
	defer f.Release()
	// Called from the JS event loop, as a page would: there an unrecovered panic kills the Go
	// runtime. (A call made from Go through Invoke would be caught by safejs instead and prove
	// nothing.) The result is wrapped in an object so that it is not flattened into the outer
	// Promise.
	out, err := await(t, jsEval(t, `Promise.resolve().then(() => { const p = fn(); return {p, isPromise: p instanceof Promise}; })`, []string{"fn"}, f))
	if err != nil {
		t.Fatalf("calling the Func from JS threw: %v", err)
	}
	if !truthy(t, out, "isPromise") {
		t.Fatalf("panicking Func returned %v, want a Promise", prop(t, out, "p").Type())
	}
	_, err = await(t, prop(t, out, "p"))
	rej := rejection(t, err)
	if got := str(t, rej.Value, "code"); got != core.CodeInternal {
		t.Errorf("code = %q, want %q", got, core.CodeInternal)
	}

	// The runtime still serves calls, from Go and from JS.
	g, err := b.Func(func(args []safejs.Value) any { return len(args) })
	if err != nil {
		t.Fatalf("Func: %v", err)
	}
	defer g.Release()
	v, err := g.Value().Invoke("a", "b", "c")
	if n, _ := v.Int(); err != nil || n != 3 {
		t.Fatalf("second Func returned %d, %v; want 3", n, err)
	}
	v, err = await(t, jsEval(t, `Promise.resolve().then(() => g(1, 2))`, []string{"g"}, g))
	if n, _ := v.Int(); err != nil || n != 2 {
		t.Fatalf("second Func called from JS returned %d, %v; want 2", n, err)
	}
}

func TestFuncCalledFromJSAndResolvesPromise(t *testing.T) {
	b := newTestBridge(t)
	f, err := b.Func(func(args []safejs.Value) any {
		return b.NewPromise(func(context.Context) (any, error) {
			s, _ := args[0].String()
			return "got " + s, nil
		})
	})
	if err != nil {
		t.Fatalf("Func: %v", err)
	}
	defer f.Release()
	// JS calls the function and awaits its result.
	p := jsEval(t, `(async () => await fn("x"))()`, []string{"fn"}, f)
	v, err := await(t, p)
	if s, _ := v.String(); err != nil || s != "got x" {
		t.Fatalf("JS await fn(\"x\") = %q, %v", s, err)
	}
}

// NewPromise must settle even when work's value cannot cross to JS (js.ValueOf panics on, e.g.,
// []string or a struct): a Promise that never settles hangs the caller's await forever.
func TestNewPromiseUnconvertibleValueSettles(t *testing.T) {
	b := newTestBridge(t)
	p := b.NewPromise(func(context.Context) (any, error) { return []string{"not", "convertible"}, nil })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := Await(ctx, p)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("Promise never settled: resolve.Invoke's conversion error is dropped (promise.go), want a rejection with internal_error")
	}
	rej := rejection(t, err)
	if got := str(t, rej.Value, "code"); got != core.CodeInternal {
		t.Errorf("code = %q, want %q", got, core.CodeInternal)
	}
}
