// Bench-only: the hello-world Go WASM started in a module worker, the floor for P2 in worker mode:
// a SharedWorker, or a dedicated Worker where pkce-wasm uses one (WebKit). Posts
// { t: "done", instantiateMs } on the connecting port (shared) or to the page (dedicated) once the
// Go program has exited.
import "/bench/hello/wasm_exec.js";

const shared = typeof SharedWorkerGlobalScope === "function" && self instanceof SharedWorkerGlobalScope;
const ports = [];
let done = null;
self.onconnect = (e) => {
  const p = e.ports[0];
  ports.push(p);
  if (done) p.postMessage(done);
};
const send = (m) => {
  done = m;
  if (shared) for (const p of ports) p.postMessage(m);
  else self.postMessage(m);
};
(async () => {
  const t0 = performance.now();
  const go = new globalThis.Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/bench/hello/hello.wasm"), go.importObject);
  const instantiateMs = performance.now() - t0;
  await go.run(instance);
  send({ t: "done", instantiateMs });
})().catch((err) => send({ t: "error", error: String(err) }));
