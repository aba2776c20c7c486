// Hooks for /bench/worker.js (see there). Runs before the shipped worker script.

const PROF = new URL(self.location.href).searchParams.get("prof") === "1";
const startedAt = performance.timeOrigin + performance.now();
const abs = () => performance.timeOrigin + performance.now(); // comparable with the page's clock
let memory = null;
let instantiateMs = null;
const events = []; // { k: kind, t: abs ms, ... }

for (const name of ["instantiateStreaming", "instantiate"]) {
  const orig = WebAssembly[name];
  if (typeof orig !== "function") continue;
  WebAssembly[name] = async function (...args) {
    const t0 = abs();
    const result = await orig.apply(this, args);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    instantiateMs = abs() - t0;
    if (instance && instance.exports.mem instanceof WebAssembly.Memory) memory = instance.exports.mem;
    if (PROF) events.push({ k: "instantiate", t: t0, end: abs() });
    return result;
  };
}

if (PROF) {
  // Message in: a listener added before the worker's own (connect, then port message).
  self.addEventListener("connect", (e) => {
    const port = e.ports[0];
    port.addEventListener("message", (m) => {
      const d = m.data;
      if (d && d.t === "call") events.push({ k: "recv", t: abs(), id: d.id, method: d.method });
    });
  });
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (msg, ...rest) {
    if (msg && msg.t === "result") events.push({ k: "post", t: abs(), id: msg.id });
    return post.call(this, msg, ...rest);
  };
  const origFetch = self.fetch;
  self.fetch = function (input, init) {
    const ev = { k: "fetch", t: abs(), url: String(input && input.url ? input.url : input), end: null };
    events.push(ev);
    const p = origFetch.call(this, input, init);
    p.then(() => { ev.end = abs(); }, () => { ev.end = abs(); });
    return p;
  };
  // IndexedDB (the login transaction): from transaction() to its complete/error/abort event.
  const tx = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (...args) {
    const ev = { k: "idb", t: abs(), end: null };
    events.push(ev);
    const t = tx.apply(this, args);
    const done = () => { if (ev.end === null) ev.end = abs(); };
    for (const n of ["complete", "error", "abort"]) t.addEventListener(n, done);
    return t;
  };
  const open = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (...args) {
    const ev = { k: "idb", m: "open", t: abs(), end: null };
    events.push(ev);
    const r = open.apply(this, args);
    const done = () => { if (ev.end === null) ev.end = abs(); };
    r.addEventListener("success", done);
    r.addEventListener("error", done);
    return r;
  };
  for (const m of ["digest", "importKey", "verify", "sign", "generateKey", "exportKey"]) {
    const orig = SubtleCrypto.prototype[m];
    if (typeof orig !== "function") continue;
    SubtleCrypto.prototype[m] = function (...args) {
      const ev = { k: "subtle", m, t: abs(), end: null };
      events.push(ev);
      const p = orig.apply(this, args);
      p.then(() => { ev.end = abs(); }, () => { ev.end = abs(); });
      return p;
    };
  }
}

const bc = new BroadcastChannel("pkce-bench");
bc.onmessage = (e) => {
  const q = e.data || {};
  if (q.t === "memory") {
    if (typeof self.gc === "function") { self.gc(); self.gc(); }
    bc.postMessage({ t: "memoryReply", q: q.id, startedAt, wasm: memory ? memory.buffer.byteLength : null, instantiateMs });
  } else if (q.t === "prof" && PROF) {
    bc.postMessage({ t: "profReply", q: q.id, startedAt, events: events.slice() });
    if (q.reset) events.length = 0;
  }
};
