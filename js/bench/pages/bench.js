// Page side of `make bench` (js/bench/bench.mjs drives these pages through playwright-core).
// Served by the dev server at /bench/ with -test-hooks. Everything is exposed on window.bench;
// results are plain JSON so that page.evaluate can return them.
//
// Libraries:
//   pkce         pkce-wasm, the bundle at /pkce/pkce-wasm.js (with its wasm_exec.js and pkce.wasm),
//                isolation "worker" (the default: a SharedWorker; WebKit: a Worker). Signed-in pages use the bench
//                worker script /bench/worker.js (the shipped worker plus measuring hooks), P2 the
//                shipped worker itself.
//   pkcePage     the same bundle with isolation: "page" (the Go client in the page)
//   oidc         oidc-client-ts's browser bundle at /bench/vendor/oidc-client-ts.min.js (global `oidc`)
//   oauth4       oauth4webapi (ESM at /bench/vendor/oauth4webapi.js), P5 only: code exchange with
//                ID-token validation and validateApplicationLevelSignature (JWKS + WebCrypto)
//   hello        a hello-world Go WASM (/bench/hello/hello.wasm + wasm_exec.js) in the page
//   helloWorker  the same started in a module worker (/bench/hello-worker.js) of the kind pkce-wasm
//                uses in this browser (a SharedWorker; a dedicated Worker in WebKit): the floor for
//                the worker build

const PKCE_URL = "/pkce/pkce-wasm.js";
const OIDC_URL = "/bench/vendor/oidc-client-ts.min.js";
const HELLO_EXEC_URL = "/bench/hello/wasm_exec.js";
const HELLO_WASM_URL = "/bench/hello/hello.wasm";
const OAUTH4_URL = "/bench/vendor/oauth4webapi.js";
const BENCH_WORKER_URL = "/bench/worker.js";
const HELLO_WORKER_URL = "/bench/hello-worker.js";
const isPkce = (lib) => lib === "pkce" || lib === "pkcePage";
// The worker kind pkce-wasm picks here (js/src/pkce-wasm.js, webKitEngine): no SharedWorker on
// WebKit, so its floor there is hello in a dedicated Worker.
const webKitEngine = /AppleWebKit\//.test(navigator.userAgent) && !/(Chrome|Chromium|Edg)\//.test(navigator.userAgent);
const SHARED_WORKER = typeof SharedWorker === "function" && !webKitEngine;

// Main-thread long tasks (> 50 ms), from this module's start on: the page's own work that blocks
// input. In worker mode none should come from compiling or running the WASM.
const longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: "longtask", buffered: true });
} catch { /* no Long Tasks API: the figure stays empty */ }
function longTasksIn(from, to) {
  const xs = longTasks.filter((e) => e.start + e.ms > from && e.start < to);
  return { n: xs.length, ms: xs.reduce((a, e) => a + e.ms, 0), max: xs.reduce((a, e) => Math.max(a, e.ms), 0) };
}
// Lets pending long-task entries arrive (they are delivered after the task).
const settle = () => new Promise((r) => setTimeout(r, 60));

// WebAssembly instrumentation, installed before any module loads: the time instantiation ended
// and the instance's linear memory (Go exports it as "mem"), for P2's breakdown and P6.
const wasm = { instantiatedAt: null, memory: null };
for (const name of ["instantiateStreaming", "instantiate"]) {
  const orig = WebAssembly[name];
  if (typeof orig !== "function") continue;
  WebAssembly[name] = async function (...args) {
    const result = await orig.apply(this, args);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    wasm.instantiatedAt = performance.now();
    if (instance && instance.exports.mem instanceof WebAssembly.Memory) wasm.memory = instance.exports.mem;
    return result;
  };
}

/** Options for either client: /config.json with the bench redirect URI, plus bench.opts overrides. */
async function loadConfig() {
  const res = await fetch("/config.json", { cache: "no-store" });
  const cfg = await res.json();
  cfg.redirectUri = `${location.origin}/bench/callback`;
  const extra = JSON.parse(sessionStorage.getItem("bench.opts") || "{}");
  return { ...cfg, ...extra };
}

function oidcSettings(cfg) {
  return {
    authority: cfg.issuer,
    client_id: cfg.clientId,
    redirect_uri: cfg.redirectUri,
    post_logout_redirect_uri: cfg.postLogoutRedirectUri,
    scope: cfg.scope,
    response_type: "code",
    automaticSilentRenew: cfg.autoRefresh !== false,
  };
}

function pkceOptions(cfg, lib, workerUrl) {
  const o = {
    isolation: lib === "pkcePage" ? "page" : "worker",
    issuer: cfg.issuer,
    clientId: cfg.clientId,
    redirectUri: cfg.redirectUri,
    postLogoutRedirectUri: cfg.postLogoutRedirectUri,
    scope: cfg.scope,
    resourceOrigins: cfg.resourceOrigins,
  };
  if (cfg.autoRefresh !== undefined) o.autoRefresh = cfg.autoRefresh;
  if (cfg.wasmUrl) o.wasmUrl = cfg.wasmUrl; // e.g. a build with a name section, for profiling
  if (lib === "pkce") o.workerUrl = workerUrl || `${BENCH_WORKER_URL}${cfg.prof ? "?prof=1" : ""}`;
  // The native baseline of P3 needs the token the wrapped fetch sends; the worker sends it from
  // where the page cannot see it, so ask for it (same option in both modes, same work per call).
  if (workerUrl === undefined) o.exposeAccessToken = true;
  return o;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

/** Resource Timing of the library's downloads: bytes on the wire vs decoded, per file. */
function downloads() {
  return performance
    .getEntriesByType("resource")
    .filter((e) => /\/(pkce|bench\/hello|bench\/vendor)\//.test(e.name))
    .map((e) => ({
      name: new URL(e.name).pathname,
      transfer: e.transferSize,
      encoded: e.encodedBodySize,
      decoded: e.decodedBodySize,
      status: e.responseStatus,
    }));
}

// ---------------------------------------------------------------- P2: time to ready

/**
 * Loads lib and makes a ready client, timed from t0 (before the library's first byte is
 * requested) to ready: PkceWasm.create resolved / new UserManager + getUser() resolved / the hello
 * program exited. /config.json is fetched before t0 (the same for every library).
 */
async function timeReady(lib, nonce) {
  const cfg = lib.startsWith("hello") ? null : await loadConfig();
  await settle();
  const t0 = performance.now();
  const out = { lib };
  if (isPkce(lib)) {
    const { PkceWasm } = await import(PKCE_URL);
    // A fresh worker URL per load: a SharedWorker of the previous load that the browser keeps
    // alive across the navigation would otherwise answer at once. (Its script is then a cache
    // miss; the module and wasm_exec.js are not.)
    const auth = await PkceWasm.create(pkceOptions(cfg, lib, `/pkce/pkce-wasm.worker.js?load=${nonce}`));
    out.readyMs = performance.now() - t0;
    if (wasm.instantiatedAt != null) out.instantiateMs = wasm.instantiatedAt - t0;
    await auth.getUser();
    out.firstCallMs = performance.now() - t0;
  } else if (lib === "helloWorker") {
    const url = `${HELLO_WORKER_URL}?load=${nonce}`;
    const m = await new Promise((resolve, reject) => {
      if (SHARED_WORKER) {
        const w = new SharedWorker(url, { type: "module", name: `hello-${nonce}` });
        w.port.onmessage = (e) => resolve(e.data);
        w.onerror = () => reject(new Error("hello worker failed to load"));
        w.port.start();
      } else {
        const w = new Worker(url, { type: "module" });
        w.onmessage = (e) => resolve(e.data);
        w.onerror = () => reject(new Error("hello worker failed to load"));
      }
    });
    out.workerKind = SHARED_WORKER ? "SharedWorker" : "Worker";
    if (m.t !== "done") throw new Error(`hello worker: ${m.error}`);
    out.readyMs = performance.now() - t0;
    out.firstCallMs = out.readyMs;
    out.instantiateMs = m.instantiateMs;
  } else if (lib === "oidc") {
    await loadScript(OIDC_URL);
    const mgr = new globalThis.oidc.UserManager(oidcSettings(cfg));
    await mgr.getUser();
    out.readyMs = performance.now() - t0;
    out.firstCallMs = out.readyMs;
  } else if (lib === "hello") {
    await import(HELLO_EXEC_URL);
    const go = new globalThis.Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch(HELLO_WASM_URL), go.importObject);
    out.instantiateMs = wasm.instantiatedAt - t0;
    await go.run(instance);
    out.readyMs = performance.now() - t0;
  } else {
    throw new Error(`unknown lib ${lib}`);
  }
  const end = performance.now();
  await settle();
  out.longTasks = longTasksIn(t0, end);
  out.downloads = downloads();
  return out;
}

// ---------------------------------------------------------------- login / callback (P5)

let client = null; // { lib, auth | mgr }

async function createClient(lib) {
  const cfg = await loadConfig();
  if (isPkce(lib)) {
    const { PkceWasm } = await import(PKCE_URL);
    client = { lib, cfg, auth: await PkceWasm.create(pkceOptions(cfg, lib)) };
  } else if (lib === "oauth4") {
    const oauth = await import(OAUTH4_URL);
    const issuer = new URL(cfg.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", [oauth.allowInsecureRequests]: true }));
    client = { lib, cfg, oauth, as, oc: { client_id: cfg.clientId } };
  } else {
    await loadScript(OIDC_URL);
    client = { lib, cfg, mgr: new globalThis.oidc.UserManager(oidcSettings(cfg)) };
  }
  return client;
}

/** login.html: remember lib and options for the callback page, then start the redirect. */
async function startLogin(lib, opts) {
  sessionStorage.setItem("bench.lib", lib);
  sessionStorage.setItem("bench.opts", JSON.stringify(opts || {}));
  const c = await createClient(lib);
  if (isPkce(lib)) await c.auth.login({ returnTo: "/bench/callback" });
  else if (lib === "oauth4") {
    const { oauth, as, cfg } = c;
    const verifier = oauth.generateRandomCodeVerifier();
    const tx = { verifier, state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce() };
    sessionStorage.setItem("bench.oauth4", JSON.stringify(tx));
    const u = new URL(as.authorization_endpoint);
    u.search = new URLSearchParams({
      client_id: cfg.clientId, redirect_uri: cfg.redirectUri, response_type: "code", scope: cfg.scope,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
      state: tx.state, nonce: tx.nonce,
    }).toString();
    location.assign(u.href);
  } else await c.mgr.signinRedirect();
}

/** oauth4webapi's callback: validate the response, redeem the code, validate the ID token and its signature. */
async function oauth4Callback(c) {
  const { oauth, as, oc, cfg } = c;
  const insecure = { [oauth.allowInsecureRequests]: true }; // the dev OP is http://localhost
  const tx = JSON.parse(sessionStorage.getItem("bench.oauth4"));
  sessionStorage.removeItem("bench.oauth4");
  const params = oauth.validateAuthResponse(as, oc, new URL(location.href), tx.state);
  const res = await oauth.authorizationCodeGrantRequest(as, oc, oauth.None(), params, cfg.redirectUri, tx.verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, oc, res, { expectedNonce: tx.nonce, requireIdToken: true });
  await oauth.validateApplicationLevelSignature(as, res, insecure);
  history.replaceState(null, "", location.pathname);
  c.tokens = tokens;
  c.claims = oauth.getValidatedIdTokenClaims(tokens);
}

/** callback.html: create the client (untimed), then time the callback handling. */
async function finishLogin() {
  const lib = sessionStorage.getItem("bench.lib");
  const c = await createClient(lib);
  const t0 = performance.now();
  if (isPkce(lib)) await c.auth.handleCallback();
  else if (lib === "oauth4") await oauth4Callback(c);
  else await c.mgr.signinRedirectCallback();
  const callbackMs = performance.now() - t0;
  const signedIn = isPkce(lib) ? await c.auth.isAuthenticated() : lib === "oauth4" ? !!c.claims : !!(await c.mgr.getUser());
  // Navigation → signed in: this document's time origin is the navigation's start (warm HTTP
  // cache: the login page loaded the same files in this context).
  const navToSignedInMs = performance.now();
  await settle();
  const longTasksStartup = longTasksIn(0, navToSignedInMs);
  // The requests made inside the timed call (discovery, token, JWKS, ...) and the time spent
  // waiting for at least one of them (union of their intervals).
  const net = performance
    .getEntriesByType("resource")
    .filter((e) => e.startTime >= t0 && e.startTime <= t0 + callbackMs)
    .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime - t0, ms: e.duration }));
  let netMs = 0;
  let until = 0;
  for (const e of [...net].sort((a, b) => a.start - b.start)) {
    const end = e.start + e.ms;
    if (end > until) {
      netMs += end - Math.max(e.start, until);
      until = end;
    }
  }
  return { lib, callbackMs, signedIn, net, netMs, navToSignedInMs, longTasks: longTasksStartup, t0Abs: performance.timeOrigin + t0 };
}

// ---------------------------------------------------------------- fetch variants (P3, P4, P6)

/** The access token the wrapped fetch attaches, read by spying on one call (P3's native baseline). */
async function wrappedBearer() {
  if (client.auth.getAccessToken) return `Bearer ${await client.auth.getAccessToken()}`;
  const orig = globalThis.fetch;
  let authorization = null;
  globalThis.fetch = function (input, init) {
    const r = input instanceof Request ? input : new Request(input, init);
    authorization = r.headers.get("authorization");
    return orig.call(this, input, init);
  };
  try {
    const res = await client.auth.fetch("/api/me");
    await res.arrayBuffer();
  } finally {
    globalThis.fetch = orig;
  }
  if (!authorization) throw new Error("the wrapped fetch attached no Authorization header");
  return authorization;
}

/** name → fetch-like function. "lib": auth.fetch, or the peer's getUser() + fetch with its token. */
async function fetchers() {
  const f = {};
  if (isPkce(client.lib)) {
    const authorization = await wrappedBearer();
    f.native = (u) => fetch(u, { headers: { Authorization: authorization } });
    f.lib = (u) => client.auth.fetch(u);
  } else {
    const user = await client.mgr.getUser();
    const authorization = `Bearer ${user.access_token}`;
    f.native = (u) => fetch(u, { headers: { Authorization: authorization } });
    f.lib = async (u) => {
      const cur = await client.mgr.getUser();
      return fetch(u, { headers: { Authorization: `Bearer ${cur.access_token}` } });
    };
  }
  return f;
}

async function consume(res, statuses) {
  await res.arrayBuffer();
  statuses[res.status] = (statuses[res.status] || 0) + 1;
}

async function sequential(fn, url, n) {
  const statuses = {};
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await consume(await fn(url), statuses);
  return { ms: performance.now() - t0, statuses };
}

async function concurrent(fn, url, n) {
  const statuses = {};
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, async () => consume(await fn(url), statuses)));
  return { ms: performance.now() - t0, statuses };
}

/**
 * P3: n sequential and n concurrent GETs of url through the library and natively (same
 * Authorization header). The sequential ones run in `blocks` interleaved blocks (lib, native,
 * native, lib, ...) so that a change in machine load hits both alike; the concurrent bursts run
 * one after the other in the given order.
 */
async function p3Requests(url, n, libFirst, blocks = 10) {
  const f = await fetchers();
  const order = libFirst ? ["lib", "native"] : ["native", "lib"];
  const out = { seq: { lib: { ms: 0, statuses: {} }, native: { ms: 0, statuses: {} } }, conc: {} };
  const per = Math.ceil(n / blocks);
  for (let b = 0, left = n; left > 0; b++, left -= per) {
    for (const k of b % 2 ? [...order].reverse() : order) {
      const r = await sequential(f[k], url, Math.min(per, left));
      out.seq[k].ms += r.ms;
      for (const [st, c] of Object.entries(r.statuses)) out.seq[k].statuses[st] = (out.seq[k].statuses[st] || 0) + c;
    }
  }
  for (const k of order) out.conc[k] = await concurrent(f[k], url, n);
  // The bare cost of one call into the library, without the network: isAuthenticated() (a Go
  // Promise round trip) or getUser() (sessionStorage + JSON.parse).
  const call = isPkce(client.lib) ? () => client.auth.isAuthenticated() : () => client.mgr.getUser();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  out.callMs = (performance.now() - t0) / n;
  return out;
}

/** Streams one response body, timing the first chunk and the end. */
async function readBody(fn, url) {
  const t0 = performance.now();
  const res = await fn(url);
  const out = {
    isResponse: res instanceof Response,
    status: res.status,
    contentLength: Number(res.headers.get("content-length")),
    bodyUsed: res.bodyUsed,
    bytes: 0,
    chunks: 0,
    firstChunkMs: null,
  };
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out.firstChunkMs === null) out.firstChunkMs = performance.now() - t0;
    out.bytes += value.byteLength;
    out.chunks++;
  }
  out.totalMs = performance.now() - t0;
  return out;
}

async function sha256Hex(fn, url) {
  const buf = await (await fn(url)).arrayBuffer();
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  return { bytes: buf.byteLength, sha256: Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("") };
}

/**
 * P3 body: a size-byte body through the library and natively: timing (streamed, chunk by chunk,
 * median of 5 interleaved reads each),
 * a streaming proof (the server pauses pauseMs after the first MiB: a client that buffered the
 * body would see its first chunk only after the pause) and, with digest, SHA-256 of both bodies.
 */
async function p3Body(size, pauseMs, libFirst, digest) {
  const f = await fetchers();
  const order = libFirst ? ["lib", "native"] : ["native", "lib"];
  const url = `/api/blob?size=${size}`;
  const out = { timing: {}, paused: {}, digest: {} };
  // Timing: `runs` interleaved reads each (lib, native, native, lib, ...); the median run is kept.
  const runs = { lib: [], native: [] };
  for (let i = 0; i < 5; i++) for (const k of i % 2 ? [...order].reverse() : order) runs[k].push(await readBody(f[k], url));
  for (const k of order) out.timing[k] = runs[k].sort((a, b) => a.totalMs - b.totalMs)[runs[k].length >> 1];
  for (const k of order) out.paused[k] = await readBody(f[k], `${url}&pauseMs=${pauseMs}`);
  if (digest) for (const k of order) out.digest[k] = await sha256Hex(f[k], url);
  return out;
}

/** P4: n concurrent requests through the library with an expired token; statuses and errors. */
async function p4Burst(url, n) {
  const statuses = {};
  const errors = {};
  let fn;
  if (isPkce(client.lib)) {
    fn = (u) => client.auth.fetch(u);
  } else {
    // The usual oidc-client-ts pattern: renew when the stored user has expired, then fetch.
    fn = async (u) => {
      let user = await client.mgr.getUser();
      if (!user || user.expired) user = await client.mgr.signinSilent();
      return fetch(u, { headers: { Authorization: `Bearer ${user.access_token}` } });
    };
  }
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        await consume(await fn(url), statuses);
      } catch (err) {
        const k = (err && (err.code || err.error || err.name)) || String(err);
        errors[k] = (errors[k] || 0) + 1;
      }
    }),
  );
  return { ms: performance.now() - t0, statuses, errors };
}

/** Tokens expired? (pkce: unknown from outside; oidc: User.expired) */
async function tokenState() {
  if (isPkce(client.lib)) return { signedIn: await client.auth.isAuthenticated() };
  const u = await client.mgr.getUser();
  return { signedIn: !!u, expired: u ? u.expired : null, expiresIn: u ? u.expires_in : null };
}

/** Asks the bench worker (worker-hooks.js) over the "pkce-bench" channel; the newest worker answers. */
async function askWorker(q, timeoutMs = 2000) {
  const bc = new BroadcastChannel("pkce-bench");
  const id = Math.random();
  const replies = [];
  bc.onmessage = (e) => { if (e.data && e.data.q === id) replies.push(e.data); };
  bc.postMessage({ ...q, id });
  const t0 = performance.now();
  while (!replies.length && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 30));
  bc.close();
  if (!replies.length) throw new Error(`no answer from the bench worker to ${q.t}`);
  return replies.sort((a, b) => b.startedAt - a.startedAt)[0];
}

async function memory() {
  if (typeof globalThis.gc === "function") {
    globalThis.gc();
    globalThis.gc();
  }
  const inWorker = client && client.lib === "pkce";
  return {
    wasm: inWorker ? (await askWorker({ t: "memory" })).wasm : wasm.memory ? wasm.memory.buffer.byteLength : null,
    heap: performance.memory ? performance.memory.usedJSHeapSize : null,
    gc: typeof globalThis.gc === "function",
  };
}

/**
 * P6: warm up, then n calls through the library (batch at a time); memory before and after. With
 * rounds > 1, further rounds of n calls follow, each with its own reading (does growth go on?).
 */
async function p6Memory(url, n, batch, warmup, rounds = 1) {
  const f = await fetchers();
  const statuses = {};
  const loaded = await memory();
  for (let i = 0; i < warmup; i++) await consume(await f.lib(url), statuses);
  const before = await memory();
  const readings = [];
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let done = 0; done < n; done += batch) {
      const k = Math.min(batch, n - done);
      await Promise.all(Array.from({ length: k }, async () => consume(await f.lib(url), statuses)));
    }
    readings.push(await memory());
  }
  const ms = performance.now() - t0;
  return { loaded, before, after: readings[0], readings, ms, statuses };
}

/**
 * Profile of the per-call fetch path (bench worker with ?prof=1): n sequential auth.fetch calls,
 * each timed in the page (call → Response → body read) and in the worker (message in → fetch
 * called → fetch resolved → result posted), on one clock (timeOrigin + now).
 */
async function profFetch(url, n) {
  const now = () => performance.timeOrigin + performance.now();
  for (let i = 0; i < 20; i++) await (await client.auth.fetch(url)).arrayBuffer(); // warm-up
  await askWorker({ t: "prof", reset: true });
  const page = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    const res = await client.auth.fetch(url);
    const t1 = now();
    await res.arrayBuffer();
    page.push({ t0, t1, t2: now() });
  }
  const w = await askWorker({ t: "prof", reset: true });
  return { page, events: w.events };
}

/** The worker's timeline of the callback (events since the worker started; bench worker with ?prof=1). */
async function profCallback() {
  const w = await askWorker({ t: "prof", reset: true });
  return { events: w.events, workerStartedAt: w.startedAt };
}

window.bench = {
  profFetch,
  profCallback,
  timeReady,
  startLogin,
  finishLogin,
  p3Requests,
  p3Body,
  p4Burst,
  p6Memory,
  tokenState,
  memory,
  get client() {
    return client;
  },
};
