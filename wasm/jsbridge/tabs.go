//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"
)

// Tabs is core.Tabs on BroadcastChannel (messages between same-origin tabs, in memory only) and
// the Web Locks API (navigator.locks: an origin-wide mutex). Where Web Locks are missing the lock
// is per tab only; where BroadcastChannel is missing there is no cross-tab coordination at all
// (NewTabs returns nil).
type Tabs struct {
	b        *Bridge
	channel  safejs.Value
	locks    safejs.Value // undefined when unsupported
	lockName string
	onMsg    safejs.Func
}

// NewTabs opens the channel for one client (issuer + client id) and delivers incoming messages to
// deliver in a goroutine, so the event loop is never blocked.
func (b *Bridge) NewTabs(name string, deliver func(string)) *Tabs {
	ctor, err := b.global.Get("BroadcastChannel")
	if err != nil || ctor.IsUndefined() {
		return nil
	}
	ch, err := ctor.New("pkce-wasm:" + name)
	if err != nil {
		return nil
	}
	t := &Tabs{b: b, channel: ch, lockName: "pkce-wasm:refresh:" + name, locks: safejs.Undefined()}
	if nav, err := b.global.Get("navigator"); err == nil && !nav.IsUndefined() {
		if l, err := nav.Get("locks"); err == nil && !l.IsUndefined() {
			t.locks = l
		}
	}
	t.onMsg, err = b.Func(func(args []safejs.Value) any {
		if len(args) == 0 {
			return nil
		}
		data, err := args[0].Get("data")
		if err != nil || data.Type() != safejs.TypeString {
			return nil
		}
		s, _ := data.String()
		go deliver(s)
		return nil
	})
	if err != nil {
		return nil
	}
	if _, err := ch.Call("addEventListener", "message", t.onMsg); err != nil {
		return nil
	}
	return t
}

func (t *Tabs) Post(msg string) {
	_, _ = t.channel.Call("postMessage", msg)
}

// WithLock runs fn inside navigator.locks.request(name, callback): the lock is held until the
// Promise our callback returns settles, i.e. until fn has finished.
func (t *Tabs) WithLock(ctx context.Context, fn func(ctx context.Context)) error {
	if t.locks.IsUndefined() {
		fn(ctx)
		return nil
	}
	cb, err := t.b.Func(func([]safejs.Value) any {
		return t.b.NewPromise(func(context.Context) (any, error) {
			fn(ctx)
			return nil, nil
		})
	})
	if err != nil {
		return err
	}
	defer cb.Release()
	p, err := t.locks.Call("request", t.lockName, cb)
	if err != nil {
		return err
	}
	_, err = Await(ctx, p)
	return err
}
