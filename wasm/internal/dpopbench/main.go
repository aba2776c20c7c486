//go:build js && wasm

// Command dpopbench measures, in a browser, what one DPoP proof costs the client: building the
// claims and JWS in Go (wasm/core.BuildDPoPProof) and signing with a non-extractable WebCrypto
// ES256 key (wasm/jsbridge.DPoPKeys), exactly as auth.fetch does per request. It installs
// globalThis.dpopBench(batches, perBatch) → Promise<{medianMs, minMs, maxMs, proofs}>: the median,
// min and max over batches of the mean time per proof (browsers coarsen timers to 0.1 ms, so one
// proof is not timed alone). Used by js/test/dpop.test.mjs; not part of the bundle.
package main

import (
	"context"
	"sort"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/pkce-wasm/pkce-wasm/wasm/core"
	"github.com/pkce-wasm/pkce-wasm/wasm/jsbridge"
)

func main() {
	errCtor, _ := safejs.Global().Get("Error")
	b, err := jsbridge.NewBridge(errCtor)
	if err != nil {
		println("dpopbench:", err.Error())
		return
	}
	f, err := b.Func(func(args []safejs.Value) any {
		batches, perBatch := 20, 50
		if len(args) > 1 {
			batches, _ = args[0].Int()
			perBatch, _ = args[1].Int()
		}
		return b.NewPromise(func(ctx context.Context) (any, error) { return run(ctx, b, batches, perBatch) })
	})
	if err != nil {
		println("dpopbench:", err.Error())
		return
	}
	_ = safejs.Global().Set("dpopBench", f)
	select {}
}

func run(ctx context.Context, b *jsbridge.Bridge, batches, perBatch int) (any, error) {
	key, err := jsbridge.NewDPoPKeys(b, safejs.Undefined()).Load(ctx)
	if err != nil {
		return nil, err
	}
	rnd := jsbridge.CryptoRand{B: b}
	p := core.DPoPProofParams{Method: "GET", URL: "https://api.example.com/v1/me?x=1",
		AccessToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl", Nonce: "server-nonce-1"}
	means := make([]float64, 0, batches)
	for i := 0; i < batches; i++ {
		t0 := time.Now()
		for j := 0; j < perBatch; j++ {
			p.Now = time.Now()
			if _, err := core.BuildDPoPProof(ctx, key, p, rnd); err != nil {
				return nil, err
			}
		}
		means = append(means, float64(time.Since(t0).Microseconds())/1000/float64(perBatch))
	}
	sort.Float64s(means)
	return map[string]any{"medianMs": means[len(means)/2], "minMs": means[0], "maxMs": means[len(means)-1],
		"proofs": batches * perBatch}, nil
}
