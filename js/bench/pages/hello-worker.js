// Bench-only: the hello-world Go WASM started in a module SharedWorker, the floor for P2 in worker
// mode. Posts { t: "done", instantiateMs } on the connecting port once the Go program has exited.
import "/bench/hello/wasm_exec.js";

const ports = [];
let done = null;
self.onconnect = (e) => {
  const p = e.ports[0];
  ports.push(p);
  if (done) p.postMessage(done);
};
(async () => {
  const t0 = performance.now();
  const go = new globalThis.Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/bench/hello/hello.wasm"), go.importObject);
  const instantiateMs = performance.now() - t0;
  await go.run(instance);
  done = { t: "done", instantiateMs };
  for (const p of ports) p.postMessage(done);
})().catch((err) => {
  done = { t: "error", error: String(err) };
  for (const p of ports) p.postMessage(done);
});
