// Bench-only worker script (/bench/worker.js[?prof=1]), passed as `workerUrl` by bench.js: it
// installs measuring hooks, then runs the shipped worker (/pkce/pkce-wasm.worker.js) unchanged.
// Module evaluation follows import order, so the hooks in worker-hooks.js are in place before the
// worker's first line runs.
//
// Without ?prof=1 the only hook is on WebAssembly.instantiate*: it keeps the Go module's linear
// memory for P6 (no per-call cost). With ?prof=1 every worker-side step of a call is timestamped
// (message in, fetch called / resolved, SubtleCrypto calls, result posted) for the profile that
// bench.mjs prints. The page reads both over a BroadcastChannel ("pkce-bench").
import "./worker-hooks.js";
import "/pkce/pkce-wasm.worker.js";
