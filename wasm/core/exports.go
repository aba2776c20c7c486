package core

// CheckReturnTo applies the returnTo rule (a same-origin absolute path, so that neither login nor
// logout can be turned into an open redirector or a javascript: URL) for the JS boundary.
func CheckReturnTo(p string) (string, error) { return checkReturnTo(p) }
