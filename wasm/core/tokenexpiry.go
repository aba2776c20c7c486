package core

import (
	"context"
	"time"
)

// AccessTokenWithExpiry is Client.AccessToken that also says when the returned token expires
// (zero when the provider sent no expires_in), for callers that need both, like an
// oauth2.TokenSource (package wasm/pkce). It takes the same path as AccessToken — the
// single-flight refresh included — and only then reads the expiry of the session that holds the
// token.
//
// If the session changes between the two steps (a refresh or a sign-out lands in between), it
// asks again; should that keep happening, it returns the token with an expiry of
// now, so that a caller that caches by expiry comes back to the client at once.
//
// It is a function rather than a method on purpose: the linker keeps the name and type of every
// exported method of a type the program uses, called or not, and the JS bundle, which does not
// call this, is measured byte for byte (make size). Unused functions leave no trace.
func AccessTokenWithExpiry(ctx context.Context, c *Client) (string, time.Time, error) {
	const attempts = 3
	for i := 1; ; i++ {
		tok, err := c.AccessToken(ctx)
		if err != nil {
			return "", time.Time{}, err
		}
		t, _ := c.sess.current()
		if t != nil && t.AccessToken == tok {
			return tok, t.Expiry, nil
		}
		if i == attempts {
			return tok, c.deps.Now(), nil
		}
	}
}
