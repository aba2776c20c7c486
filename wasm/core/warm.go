package core

import (
	"encoding/base64"
	"strconv"
	"time"
)

// warmUp runs the callback's token-response parsing, JWT parsing and ID-token claim checks once on
// made-up data, discarding the results. A WebAssembly engine compiles a function on its first call
// (V8 and SpiderMonkey compile lazily), and in a fresh worker that first-call compilation was most
// of the callback's own time (README, "Size and performance"). Prefetch calls this on the redirect
// URI page while it waits for the network, so the compilation happens before the code arrives
// rather than after. Nothing here touches the session or the network. The error is for the test
// that checks the made-up data goes through every step.
func warmUp(now time.Time) error {
	enc := base64.RawURLEncoding.EncodeToString
	t := strconv.FormatInt(now.Unix(), 10)
	idt := enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"warm"}`)) + "." +
		enc([]byte(`{"iss":"https://warm.invalid","aud":"warm","azp":"warm","sub":"warm","nonce":"warm","iat":`+t+`,"exp":`+t+`,"auth_time":`+t+`}`)) + "." +
		enc([]byte("not a signature"))
	body := `{"access_token":"warm","token_type":"Bearer","expires_in":300,"refresh_token":"warm","scope":"openid","id_token":"` + idt + `"}`
	ts, err := parseTokenResponse(200, []byte(body), now, "Bearer")
	if err != nil {
		return err
	}
	j, err := ParseJWT(ts.IDToken)
	if err != nil {
		return err
	}
	return j.ValidateClaims(IDTokenCheck{Issuer: "https://warm.invalid", ClientID: "warm", Nonce: "warm", Now: now, Skew: time.Minute})
}
