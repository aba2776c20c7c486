//go:build js

package core

import "io"

// defaultRand is nil under js: the browser's randomness comes from the bridge (Deps.Rand).
var defaultRand io.Reader
