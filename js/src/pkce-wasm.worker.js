// pkce-wasm worker: runs the Go client where no page script can reach it.
//
// Started by js/src/pkce-wasm.js as a module SharedWorker (one per origin and configuration,
// shared by every tab) or, where SharedWorker is missing, a dedicated Worker (one per tab). Tokens,
// the PKCE verifier and keys live here, in Go's memory; the page gets results, claims, token-free
// events and API responses, never a token (unless the app opted into exposeAccessToken).
//
// Any same-origin page can connect to this SharedWorker (new SharedWorker(sameUrl, sameName)), so
// every port is treated alike: it may run the page API's commands — as trusted as the app's own
// page, no more — and no message can hand the worker a session, token, key or claims, or change
// its configuration.
import { _workerSupport } from "./pkce-wasm.js";

const { PROTOCOL, loadBridge, workerName, callbackState, fromError, dpopKeys } = _workerSupport;

const METHODS = ["beginLogin", "callback", "awaitCallback", "prefetch", "isAuthenticated", "getUser", "getUserInfo", "fetch", "logout", "getSession", "getAccessToken"];
const SHARED = typeof SharedWorkerGlobalScope === "function" && globalThis instanceof SharedWorkerGlobalScope;
const MAX_WAIT_MS = 10 * 60 * 1000;

const ports = new Set();
const initialized = new WeakSet();
let client = null; // Promise of the Go client, created by the first valid init
let methods = [];
const waiters = new Map(); // state → [{resolve, reject}]: logins started in a tab, finished in a popup or iframe
const aborts = new Map(); // port → Map(id → AbortController)
let streamTransfer = null; // can a ReadableStream be transferred here? (WebKit: no)
let loggingOut = null; // the port whose logout is under way: the other tabs hear "other_tab"
let txStore = null; // the login transactions in IndexedDB (idbStore), opened by the first valid init
// Login transactions taken out of IndexedDB before the Go client is up (see takeEarly): key →
// Promise of the stored record (or null). Each is handed out once, to the first take of its key.
const early = new Map();
const EARLY_MAX = 8;
const TX_KEY_PREFIX = "pkce-wasm.tx."; // core.txKeyPrefix (kept equal by wasm/core TestWorkerTxKeyPrefix)

// Listeners go on synchronously, before any await: a message that arrives while a module worker
// has no listener is dropped.
if (SHARED) {
  globalThis.onconnect = (e) => attach(e.ports[0]);
} else {
  attach(globalThis);
}

function attach(port) {
  ports.add(port);
  aborts.set(port, new Map());
  port.onmessage = (e) => {
    onMessage(port, e.data).catch(() => {});
  };
}

function post(port, msg, transfer) {
  try {
    port.postMessage(msg, transfer || []);
  } catch {
    // Nothing to do: a message that cannot be cloned is a bug here, and a closed tab's port
    // does not throw.
  }
}

function broadcast(msg) {
  for (const p of ports) post(p, msg);
}

async function onMessage(port, m) {
  if (!m || typeof m !== "object" || typeof m.t !== "string") return;
  switch (m.t) {
    case "ping":
      post(port, { t: "pong" });
      return;
    case "init":
      return init(port, m);
    case "abort": {
      const a = aborts.get(port)?.get(m.id);
      if (a) a.abort();
      return;
    }
    case "call":
      if (!Number.isSafeInteger(m.id)) return;
      if (!initialized.has(port)) return post(port, { t: "result", id: m.id, error: { code: "invalid_config", description: "init first" } });
      return call(port, m.id, m.method, m.args);
  }
}

// init checks the configuration against this worker's name (a hash of it) before anything runs:
// the first init fixes the configuration for the worker's life; a port with another
// configuration is refused, so no port can change or widen it (e.g. add a resource origin).
async function init(port, m) {
  try {
    if (m.protocol !== PROTOCOL) throw { code: "worker_failed", description: `protocol ${m.protocol} is not this worker's (${PROTOCOL})` };
    const config = m.config;
    if (!config || typeof config !== "object" || Array.isArray(config)) throw { code: "invalid_config", description: "no configuration" };
    if ((await workerName(config)) !== globalThis.name) {
      throw { code: "invalid_config", description: "the configuration does not match this worker's name" };
    }
    if (!txStore) txStore = idbStore(); // opens the database while the module loads
    takeEarly(m.callbackState);
    if (!client) {
      client = start(config);
      client.catch(() => { client = null; }); // a failed start (e.g. the WASM did not load) may be retried
    }
    try {
      await client;
    } catch (err) {
      // A worker that cannot start leaves the transactions it took early, before it answers: a
      // dedicated worker is terminated as soon as the page hears of the failure.
      await Promise.all([...early.keys()].map(putBack));
      throw err;
    }
    initialized.add(port);
    post(port, { t: "ready", methods });
  } catch (err) {
    post(port, { t: "initError", error: fromError(err) });
  }
}

async function start(config) {
  const { wasmUrl, ...options } = config;
  const bridge = await loadBridge(wasmUrl);
  const host = {
    store: {
      put: (key, value) => txStore.put(key, value),
      take: (key) => {
        const e = early.get(key);
        if (!e) return txStore.take(key);
        early.delete(key);
        return e.then((rec) => (rec ? recordValue(rec) : txStore.take(key)));
      },
    },
    emit: (name, detail) => {
      if (name === "signedOut" && detail && detail.reason === "logout" && loggingOut) {
        for (const p of ports) post(p, { t: "event", name, detail: { ...detail, reason: p === loggingOut ? "logout" : "other_tab" } });
        return;
      }
      broadcast({ t: "event", name, detail });
    },
    shared: SHARED,
    keys: options.dpop === true ? dpopKeys(options) : undefined, // the DPoP key pair (IndexedDB)
    fastFetch: true, // this script sends auth.fetch's requests itself (tokenFetch); not with DPoP
  };
  const c = await bridge.create(options, host);
  methods = METHODS.filter((n) => n === "awaitCallback" || typeof c[n] === "function");
  return c;
}

// takeEarly starts the callback's single-use take of its login transaction while the module
// compiles and instantiates, off the callback's critical path (an IndexedDB transaction in a
// fresh worker took 4–90 ms in `make bench`). The page sends the state of the callback URL it is
// on, and only when it will call callback itself (not a popup's or iframe's page that forwards the
// URL to another worker). A port could already take a transaction by calling callback; this gives
// it nothing more. A transaction taken early and not used — this worker failed to start (invalid
// options), or more than EARLY_MAX are waiting — goes back to IndexedDB as it was.
function takeEarly(state) {
  if (typeof state !== "string" || !state || state.length > 512) return;
  const key = TX_KEY_PREFIX + state;
  if (early.has(key)) return;
  if (early.size >= EARLY_MAX) putBack(early.keys().next().value);
  const p = txStore.takeRecord(key).catch(() => null); // a failed read: Go's own take reports it
  early.set(key, p);
}

function putBack(key) {
  const p = early.get(key);
  early.delete(key);
  return p ? p.then((rec) => rec && txStore.restore(key, rec)).catch(() => {}) : Promise.resolve();
}

async function call(port, id, method, args) {
  const reply = (value, transfer) => post(port, { t: "result", id, value }, transfer);
  const fail = (err) => post(port, { t: "result", id, error: fromError(err) });
  try {
    if (!METHODS.includes(method) || !Array.isArray(args)) throw { code: "invalid_config", description: "unknown command" };
    const c = await client;
    switch (method) {
      case "fetch":
        return await proxyFetch(port, id, c, args[0]);
      case "awaitCallback":
        return reply(await awaitCallback(args[0], args[1]));
      case "callback": {
        const state = typeof args[0] === "string" ? callbackState(args[0]) : "";
        try {
          const r = await c.callback(args[0]);
          settle(state, (w) => w.resolve(r));
          return reply(r);
        } catch (err) {
          settle(state, (w) => w.reject(err));
          throw err;
        }
      }
      case "logout":
        loggingOut = port;
        try {
          return reply(await c.logout(args[0]));
        } finally {
          loggingOut = null;
        }
      default:
        if (typeof c[method] !== "function") throw { code: "invalid_config", description: `${method} is not enabled` };
        return reply(await c[method](...args.slice(0, 1)));
    }
  } catch (err) {
    fail(err);
  }
}

function settle(state, fn) {
  const ws = waiters.get(state);
  if (!state || !ws) return;
  waiters.delete(state);
  for (const w of ws) fn(w);
}

function awaitCallback(state, timeoutMs) {
  if (typeof state !== "string" || !state) return Promise.reject({ code: "invalid_config", description: "awaitCallback needs a state" });
  const ms = Math.min(Number(timeoutMs) || MAX_WAIT_MS, MAX_WAIT_MS);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const ws = waiters.get(state) || [];
      const rest = ws.filter((w) => w.resolve !== done);
      if (rest.length) waiters.set(state, rest);
      else waiters.delete(state);
      reject({ code: "timeout", description: "no answer from the provider in time (was the window closed?)" });
    }, ms);
    const done = (r) => { clearTimeout(timer); resolve(r); };
    const w = { resolve: done, reject: (e) => { clearTimeout(timer); reject(e); } };
    waiters.set(state, [...(waiters.get(state) || []), w]);
  });
}

// ---- auth.fetch through the worker ----

const FETCH_INIT = ["method", "credentials", "cache", "redirect", "mode", "referrerPolicy", "integrity", "keepalive"];

async function proxyFetch(port, id, c, r) {
  if (!r || typeof r !== "object" || typeof r.url !== "string") throw { code: "invalid_config", description: "fetch needs a request" };
  const init = { headers: Array.isArray(r.headers) ? r.headers : [] };
  for (const k of FETCH_INIT) if (r[k] !== undefined && r[k] !== "") init[k] = r[k];
  if (r.body instanceof ArrayBuffer) init.body = r.body;
  const ac = new AbortController();
  init.signal = ac.signal;
  const mine = aborts.get(port);
  mine.set(id, ac);
  let res;
  try {
    // Fast path: one synchronous Go call decides the token; undefined means a refresh is due,
    // which Go's own fetch handles (the slow path).
    const tok = typeof c.fetchToken === "function" ? c.fetchToken(r.url) : undefined;
    res = tok === null || typeof tok === "string" ? await tokenFetch(c, r.url, init, tok) : await c.fetch(r.url, init);
  } catch (err) {
    mine.delete(id);
    if (ac.signal.aborted) return; // the page has rejected it already
    throw err;
  }
  const head = {
    id, status: res.status, statusText: res.statusText, headers: [...res.headers],
    url: res.url, redirected: res.redirected, type: res.type, body: null, chunked: false,
  };
  if (!res.body) {
    mine.delete(id);
    return post(port, { t: "result", id, value: head });
  }
  if (smallBody(res)) {
    // One transferred buffer with the head: a transferred stream costs a cross-thread round trip
    // per read on the page (≈ 1 ms of a 5 ms auth.fetch in `make bench`'s profile).
    let buf;
    try {
      buf = await res.arrayBuffer();
    } catch (err) {
      if (ac.signal.aborted) return; // the page has rejected it already
      throw { code: "network_error", description: `reading the response failed: ${(err && err.message) || err}` };
    } finally {
      mine.delete(id);
    }
    return post(port, { t: "result", id, value: { ...head, body: buf } }, [buf]);
  }
  if (streamTransfer !== false) {
    try {
      port.postMessage({ t: "result", id, value: { ...head, body: res.body } }, [res.body]);
      streamTransfer = true;
      mine.delete(id); // the page owns the stream now; cancelling it there stops the download
      return;
    } catch {
      streamTransfer = false; // DataCloneError: this browser cannot transfer streams
    }
  }
  // Chunks of transferred ArrayBuffers, as they arrive: never the whole body buffered here.
  post(port, { t: "result", id, value: { ...head, chunked: true } });
  const reader = res.body.getReader();
  ac.signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const buf = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value.buffer : value.slice().buffer;
      post(port, { t: "chunk", id, data: buf }, [buf]);
    }
    post(port, { t: "end", id });
  } catch (err) {
    if (!ac.signal.aborted) post(port, { t: "end", id, error: { code: "network_error", description: String((err && err.message) || err) } });
  } finally {
    mine.delete(id);
  }
}

// smallBody: the response declares a body of at most SMALL_BODY bytes on the wire (a JSON API
// answer), which is read whole here; larger or undeclared (streamed) bodies stay streams.
const SMALL_BODY = 64 * 1024;
function smallBody(res) {
  const len = res.headers.get("content-length");
  return len !== null && /^[0-9]{1,6}$/.test(len) && Number(len) <= SMALL_BODY;
}

// tokenFetch sends the request with tok (none when null) and, on a 401, lets Go decide whether to
// refresh once and retry once (rejectedToken: invalid_token from an allow-listed origin).
async function tokenFetch(c, url, init, tok) {
  const send = async (headers) => {
    try {
      return await fetch(url, { ...init, headers });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw { code: "network_error", description: `fetch failed: ${(err && err.message) || err}` };
    }
  };
  if (tok === null) return send(init.headers);
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${tok}`);
  const res = await send(headers);
  if (res.status !== 401) return res;
  const fresh = await c.rejectedToken(tok, res.url, res.headers.get("www-authenticate") || "");
  if (typeof fresh !== "string") return res;
  headers.set("Authorization", `Bearer ${fresh}`);
  return send(headers);
}

// ---- the login transaction, in IndexedDB ----
// Workers have no sessionStorage. The transaction (state, nonce, PKCE verifier, return path) must
// survive the redirect even when no tab keeps this worker alive; it is deleted on first use (read
// and delete in one IndexedDB transaction) and expires. Any same-origin script can read IndexedDB:
// see README, "What isolation does not protect".

const DB = "pkce-wasm";
const STORE = "transactions";
const TX_TTL_MS = 30 * 60 * 1000; // as core.transactionTTL

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function idbStore() {
  // Opened now, while the module compiles: on the redirect URI page the first use is the
  // callback's take, and opening there put ~10 ms (more on a busy machine) on its critical path.
  let opening = openDB();
  opening.catch(() => { opening = null; }); // retried on first use
  let db = null;
  const withStore = async (fn) => {
    db = db || (await (opening || (opening = openDB())));
    return new Promise((resolve, reject) => {
      // Relaxed durability: the commit does not wait for the disk (the record lives 30 minutes
      // at most; a crash before it is flushed only costs a new login).
      const tx = db.transaction(STORE, "readwrite", { durability: "relaxed" });
      const store = tx.objectStore(STORE);
      let result;
      fn(store, (v) => { result = v; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  // takeRecord reads and deletes a record in one transaction: single use.
  const takeRecord = (key) => withStore((store, result) => {
    const get = store.get(key);
    get.onsuccess = () => {
      const rec = get.result;
      if (rec === undefined) return result(null);
      store.delete(key);
      result(rec);
    };
  });
  return {
    put: (key, value) => withStore((store) => {
      // Drop abandoned transactions while here.
      const now = Date.now();
      const cur = store.openCursor();
      cur.onsuccess = () => {
        const c = cur.result;
        if (!c) return;
        if (!(c.value && now - c.value.at < TX_TTL_MS)) c.delete();
        c.continue();
      };
      store.put({ value, at: now }, key);
    }),
    take: (key) => takeRecord(key).then((rec) => (rec ? recordValue(rec) : null)),
    takeRecord,
    restore: (key, rec) => withStore((store) => { store.put(rec, key); }),
  };
}

// recordValue is a stored transaction's value, or null when it is malformed or expired.
function recordValue(rec) {
  return rec && typeof rec.value === "string" && Date.now() - rec.at < TX_TTL_MS ? rec.value : null;
}
