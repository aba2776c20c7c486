package core

import (
	"github.com/pkce-wasm/pkce-wasm/wasm/internal/strictjson"
)

// Tabs is how a client tells the other tabs of its origin one thing: "I signed out". In the browser
// it is a BroadcastChannel, which any same-origin page can read and write, so nothing that crosses
// it is secret or trusted: no token and no session ever does. Each tab holds its own session and
// refreshes it itself; a new tab signs in on its own (a silent login when the provider session
// lives). Delivery of incoming messages is the implementation's job: it calls
// Client.HandleTabMessage.
type Tabs interface {
	// Post sends a message to every other tab of the origin.
	Post(msg string)
}

// msgLogout is the only message type: "I signed out: sign out too".
const msgLogout = "logout"

// postLogout tells the other tabs that this one signed out.
func (c *Client) postLogout() {
	if c.deps.Tabs == nil {
		return
	}
	var w strictjson.ObjectWriter
	w.String("type", msgLogout)
	w.String("from", c.tabID)
	c.deps.Tabs.Post(string(w.Bytes()))
}

// HandleTabMessage processes a message from another tab. It acts only on a well-formed logout
// signal, exactly {"type":"logout","from":"<tab id>"} from another tab, and signs out with reason
// "other_tab". Since any same-origin page can post one, the worst a forged message can do is sign
// the user out of this tab, which the user can also do. Everything else is ignored: a message
// with tokens in it (the session handoff of older versions, or a forgery) is never adopted.
func (c *Client) HandleTabMessage(data string) {
	m, err := parseJSONObject([]byte(data))
	if err != nil || len(m.Members()) != 2 {
		return
	}
	typ, ok1 := jsonString(m.Get("type")) // exact names: this one was never matched case-insensitively
	from, ok2 := jsonString(m.Get("from"))
	if !ok1 || !ok2 || typ != msgLogout || from == "" || from == c.tabID {
		return
	}
	if c.sess.clear() != nil {
		c.emit(EventSignedOut, map[string]any{"reason": "other_tab"})
	}
	c.dropDPoPKey() // the other tab deleted it from storage at its logout
}
