package core

import (
	"time"
)

// Lifecycle events (Deps.Emit). Their details never contain a token.
const (
	EventTokenRefreshed = "tokenRefreshed" // new tokens from a refresh; detail: expiresAt
	EventTokenExpiring  = "tokenExpiring"  // the access token is within the refresh margin; detail: expiresAt
	EventSignedOut      = "signedOut"      // tokens dropped; detail: reason (logout, invalid_grant, other_tab)
	EventError          = "error"          // a background operation failed; detail: code, during
)

func (c *Client) emit(event string, detail map[string]any) {
	if c.deps.Emit != nil {
		c.deps.Emit(event, detail)
	}
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.Unix())
}
