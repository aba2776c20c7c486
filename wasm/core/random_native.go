//go:build !js

package core

import "crypto/rand"

var defaultRand = rand.Reader
