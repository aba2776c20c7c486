//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// Tabs is core.Tabs on BroadcastChannel: the logout signal between same-origin tabs, in memory
// only. Where BroadcastChannel is missing there is none (NewTabs returns nil).
type Tabs struct {
	b       *Bridge
	channel safejs.Value
	onMsg   safejs.Func
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
	t := &Tabs{b: b, channel: ch}
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
