// pkce-wasm loader: starts the Go WebAssembly client and hands out client objects.
//
// By default the client runs in a worker (a SharedWorker shared by the app's tabs; a dedicated
// Worker where SharedWorker is missing), so that no token, PKCE verifier or key ever passes through
// the page's JavaScript: this file is then a thin proxy that posts commands to
// pkce-wasm.worker.js. With `isolation: "page"` (opt-in, weaker: see README) the WASM runs in the
// page itself. Either way the page plumbing — navigation, popups, iframes, the callback URL — is
// here, and the protocol work is in Go (wasm/jsbridge over wasm/core).
import "./wasm_exec.js"; // defines globalThis.Go (shipped from $(go env GOROOT)/lib/wasm)

/** Error thrown (rejected) by every pkce-wasm call. `code` is stable; branch on it. */
export class PkceWasmError extends Error {
  constructor(code, description, extra) {
    super(description ? `${code}: ${description}` : code);
    this.name = "PkceWasmError";
    this.code = code;
    this.description = description || "";
    // The provider's own words, kept apart from our code (see README, "Error codes").
    this.oauthError = (extra && extra.oauthError) || undefined;
    this.status = (extra && extra.status) || undefined;
  }
}

// Version of the page ↔ worker protocol; part of the worker's name, so a page of an older deploy
// never talks to a newer worker or the reverse.
const PROTOCOL = 1;
// Options the page keeps; the rest configures the client (and names the worker).
const PAGE_OPTIONS = ["isolation", "workerUrl", "wasmUrl", "tabHandoffMs"];
const POPUP_TIMEOUT_MS = 10 * 60 * 1000;
const SILENT_TIMEOUT_MS = 10 * 1000;
const CALLBACK_CHANNEL = "pkce-wasm:callback";
const EVENTS = ["tokenRefreshed", "tokenExpiring", "signedOut", "error"];
// What login, loginPopup and signInSilently pass on (core.LoginOptions).
const LOGIN_OPTIONS = ["returnTo", "prompt", "loginHint", "audience", "resource", "maxAge", "acrValues", "extraParams"];
const RESPONSE_PARAMS = ["code", "state", "iss", "error", "error_description", "error_uri", "session_state"];

// ---- loading the Go program (in the page, or in the worker through _workerSupport) ----

async function instantiate(url, importObject) {
  if (typeof WebAssembly.instantiateStreaming === "function") {
    try {
      return await WebAssembly.instantiateStreaming(fetch(url), importObject);
    } catch (err) {
      // Most often the server sends the wrong Content-Type; fall back, but say so.
      console.warn(`pkce-wasm: instantiateStreaming failed (${err && err.message}); serve ${url} as application/wasm. Falling back to a slower path.`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new PkceWasmError("load_failed", `cannot load ${url}: HTTP ${res.status}`);
  return WebAssembly.instantiate(await res.arrayBuffer(), importObject);
}

let loading = null;

// loadBridge instantiates the Go program once per realm and resolves to its bridge:
// { create(options, host) → Promise<core client> } (wasm/cmd/pkce-wasm/main.go).
function loadBridge(wasmUrl) {
  if (loading) return loading;
  loading = (async () => {
    const go = new globalThis.Go();
    let ready, fail;
    const started = new Promise((res, rej) => { ready = res; fail = rej; });
    const handshake = {
      ErrorClass: PkceWasmError,
      ready: () => ready(),
      fail: (msg) => fail(new PkceWasmError("load_failed", msg)),
    };
    globalThis.__pkceWasmBridge = handshake;
    try {
      const { instance } = await instantiate(wasmUrl, go.importObject);
      const exited = go.run(instance);
      await Promise.race([started, exited.then(() => { throw new PkceWasmError("load_failed", "the WASM module exited"); })]);
      return handshake;
    } finally {
      delete globalThis.__pkceWasmBridge;
    }
  })();
  loading.catch(() => { loading = null; }); // allow a retry after a failed load
  return loading;
}

// canonical is JSON with sorted object keys: equal configurations give equal strings.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

// workerName is the name of the worker that serves config: a hash of the whole configuration and
// the protocol version. A tab with another configuration (or an older deploy) gets its own
// worker, and a worker checks that its first configuration matches its name (pkce-wasm.worker.js).
async function workerName(config) {
  const data = new TextEncoder().encode(`pkce-wasm/${PROTOCOL}\n${canonical(config)}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `pkce-wasm:${PROTOCOL}:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// ---- the DPoP key pair (option dpop), in IndexedDB ----
// The authorization code is bound to the key before the redirect (RFC 9449 §10) and exchanged
// after it, maybe by a new worker or page: the CryptoKeyPair (structured-clonable; its private key
// generated non-extractable by wasm/jsbridge/dpop.go) is kept in IndexedDB, one per issuer and
// client id, and deleted at logout. A same-origin script can read it and sign with it while it
// runs, but never export the private key. Without IndexedDB: no host.keys (a memory-only key).

const KEY_DB = "pkce-wasm-dpop";
const KEY_STORE = "keys";

function dpopKeys(config) {
  if (typeof indexedDB === "undefined" || !indexedDB) return undefined;
  const id = `${config.issuer} ${config.clientId}`;
  let db = null;
  const open = () => new Promise((resolve, reject) => {
    const req = indexedDB.open(KEY_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(KEY_STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const run = async (mode, fn) => {
    db = db || (await open());
    return new Promise((resolve, reject) => {
      const tx = db.transaction(KEY_STORE, mode);
      let result;
      fn(tx.objectStore(KEY_STORE), (v) => { result = v; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    get: () => run("readonly", (s, result) => {
      const g = s.get(id);
      g.onsuccess = () => result(g.result || null);
    }),
    // Add unless another tab (dedicated workers) stored one first: then that one is used.
    put: (pair) => run("readwrite", (s, result) => {
      const g = s.get(id);
      g.onsuccess = () => {
        if (g.result) return result(g.result);
        const v = { privateKey: pair.privateKey, publicKey: pair.publicKey };
        s.put(v, id);
        result(v);
      };
    }),
    delete: () => run("readwrite", (s) => { s.delete(id); }),
  };
}

/** Internal: what pkce-wasm.worker.js shares with this file. Not a public API. */
export const _workerSupport = Object.freeze({ PROTOCOL, loadBridge, workerName, callbackState, toError, fromError, dpopKeys });

function toError(e) {
  if (e instanceof PkceWasmError) return e;
  if (e && typeof e === "object" && typeof e.code === "string") {
    return new PkceWasmError(e.code, e.description, { oauthError: e.oauthError, status: e.status });
  }
  return new PkceWasmError("internal_error", String((e && e.message) || e));
}

// fromError is an error as it crosses postMessage: plain data, never a token (Go's descriptions
// hold none, see core.Error).
function fromError(e) {
  const err = toError(e);
  return { code: err.code, description: err.description, oauthError: err.oauthError, status: err.status };
}

// ---- the callback URL ----

function params(href) {
  try {
    return new URL(href).searchParams;
  } catch {
    return null;
  }
}

/** True when `href` carries an authorization response: state plus code or error (the rule of core.IsCallbackURL). */
function isCallback(href = globalThis.location && globalThis.location.href) {
  const q = params(href);
  return !!q && q.has("state") && (q.has("code") || q.has("error"));
}

/** True when href is at redirectUri (same origin and path; the query is the response's). */
function isRedirectURI(href, redirectUri) {
  if (typeof redirectUri !== "string" || !redirectUri) return false;
  try {
    const a = new URL(href);
    const b = new URL(redirectUri);
    return a.origin === b.origin && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

function callbackState(href) {
  const q = params(href);
  return (q && q.get("state")) || "";
}

// The state's prefix says which kind of login a callback belongs to (core.statePrefix).
function callbackMode(href) {
  const s = callbackState(href);
  return s.startsWith("p.") ? "popup" : s.startsWith("s.") ? "silent" : "";
}

function cleanCallbackURL(href) {
  const u = new URL(href);
  for (const k of RESPONSE_PARAMS) u.searchParams.delete(k);
  return u.href;
}

// ---- popup and iframe callbacks where there is no shared worker ----
// The popup's or iframe's page hands the callback URL to the window that started the login, by
// postMessage to its opener or parent (our origin only) and, because a provider's COOP nulls
// window.opener, on a BroadcastChannel. That exposes the code and state to same-origin pages; the
// code is useless without the PKCE verifier, which stays with the client that started the login.
// With a SharedWorker none of this happens: the popup's page gives the callback to the worker.

function forwardCallback(href, mode) {
  const msg = { type: CALLBACK_CHANNEL, url: href };
  const target = mode === "silent" ? globalThis.parent : globalThis.opener;
  try {
    if (target && target !== globalThis) target.postMessage(msg, location.origin);
  } catch { /* opener gone */ }
  if (typeof BroadcastChannel === "function") {
    const bc = new BroadcastChannel(CALLBACK_CHANNEL);
    bc.postMessage(msg);
    bc.close();
  }
}

function waitForwarded(state, timeoutMs) {
  return new Promise((resolve, reject) => {
    const bc = typeof BroadcastChannel === "function" ? new BroadcastChannel(CALLBACK_CHANNEL) : null;
    const take = (data) => {
      if (data && data.type === CALLBACK_CHANNEL && typeof data.url === "string" && callbackState(data.url) === state) {
        done();
        resolve(data.url);
      }
    };
    const onMessage = (e) => { if (e.origin === location.origin) take(e.data); };
    const onBC = (e) => take(e.data);
    const timer = setTimeout(() => {
      done();
      reject(new PkceWasmError("timeout", "no answer from the provider in time (was the window closed?)"));
    }, timeoutMs);
    function done() {
      clearTimeout(timer);
      globalThis.removeEventListener("message", onMessage);
      if (bc) bc.close();
    }
    globalThis.addEventListener("message", onMessage);
    if (bc) bc.addEventListener("message", onBC);
  });
}

// ---- the page-facing client (same for both isolation modes) ----

function pick(o, names) {
  const out = {};
  if (o && typeof o === "object") for (const n of names) if (o[n] !== undefined) out[n] = o[n];
  return out;
}

// makeClient wraps a core (Go's client object in the page, or the worker proxy) with the page
// plumbing. runsIn "shared-worker": popups and iframes reach the same core directly.
function makeClient(core, { runsIn, events }) {
  const shared = runsIn === "shared-worker";
  const listeners = new Map();
  const off = (name, fn) => {
    const l = listeners.get(fn)?.get(name);
    if (l) {
      events.removeEventListener(name, l);
      listeners.get(fn).delete(name);
    }
  };

  // finish waits for the callback of a popup or iframe login and returns its result.
  async function finish(state, timeoutMs) {
    if (shared) return core.awaitCallback(state, timeoutMs);
    const url = await waitForwarded(state, timeoutMs);
    return core.callback(url);
  }

  const client = {
    runsIn,

    async login(o) {
      const { url } = await core.beginLogin(pick(o, LOGIN_OPTIONS));
      location.assign(url);
    },

    loginPopup(o) {
      // window.open must run now, inside the click's user activation; the popup is pointed at the
      // provider once the authorization URL is ready.
      const popup = globalThis.open("", "pkce-wasm-login", "popup,width=520,height=680");
      return (async () => {
        if (!popup) throw new PkceWasmError("popup_blocked", "the browser blocked the login popup; call loginPopup from a click handler");
        let begun;
        try {
          begun = await core.beginLogin({ ...pick(o, LOGIN_OPTIONS), mode: "popup" });
        } catch (err) {
          popup.close();
          throw err;
        }
        popup.location.href = begun.url;
        const r = await finish(begun.state, POPUP_TIMEOUT_MS);
        return { returnTo: r.returnTo, signedIn: r.signedIn };
      })();
    },

    async signInSilently(o) {
      const mode = (o && o.mode) || "iframe";
      const opts = { ...pick(o, LOGIN_OPTIONS), prompt: "none" };
      if (mode === "redirect") {
        const { url } = await core.beginLogin(opts);
        location.assign(url);
        return;
      }
      if (mode !== "iframe") throw new PkceWasmError("invalid_config", 'mode must be "iframe" or "redirect"');
      const { url, state } = await core.beginLogin({ ...opts, mode: "silent" });
      const frame = document.createElement("iframe");
      frame.hidden = true;
      frame.title = "pkce-wasm silent sign-in";
      frame.src = url;
      document.body.appendChild(frame);
      try {
        const r = await finish(state, SILENT_TIMEOUT_MS);
        return !!(r && r.signedIn);
      } finally {
        frame.remove();
      }
    },

    async handleCallback(url) {
      const href = location.href;
      const target = typeof url === "string" ? url : href;
      if (target === href && isCallback(href)) {
        // Whatever the outcome, code and state leave the address bar now: a reload must not
        // replay them, and they must not leak through history or Referer.
        history.replaceState(history.state, "", cleanCallbackURL(href));
      }
      const mode = callbackMode(target);
      if (mode && !shared) {
        forwardCallback(target, mode);
        if (mode === "popup") globalThis.close();
        return { returnTo: "/", forwarded: true };
      }
      if (!mode) {
        const r = await core.callback(target);
        return { returnTo: r.returnTo, signedIn: r.signedIn };
      }
      // A popup or iframe page with a shared worker: the worker finishes the login the opener
      // started and tells it (awaitCallback). Failures are the opener's to report.
      try {
        await core.callback(target);
      } catch { /* reported to the window that started the login */ }
      if (mode === "popup") globalThis.close();
      return { returnTo: "/", forwarded: true };
    },

    isAuthenticated: () => core.isAuthenticated(),
    getUser: () => core.getUser(),
    getUserInfo: () => core.getUserInfo(),
    fetch: (input, init) => core.fetch(input, init),
    getSession: () => core.getSession(),
    refresh: () => core.getSession({ refresh: true }),

    async logout(o) {
      const { navigate } = await core.logout(pick(o, ["returnTo", "localOnly"]));
      if (navigate) location.assign(navigate);
    },

    off,
    on(name, fn) {
      if (!EVENTS.includes(name)) throw new PkceWasmError("invalid_config", `unknown event "${name}"; one of ${EVENTS.join(", ")}`);
      if (typeof fn !== "function") throw new PkceWasmError("invalid_config", "on() needs a listener function");
      const l = (e) => fn(e.detail);
      if (!listeners.has(fn)) listeners.set(fn, new Map());
      listeners.get(fn).set(name, l);
      events.addEventListener(name, l);
      return () => off(name, fn);
    },
  };
  if (core.getAccessToken) client.getAccessToken = () => core.getAccessToken();
  return Object.freeze(client);
}

// ---- isolation "page": the Go client in this page ----

// sessionStore keeps the login transaction in sessionStorage (per tab; survives the redirect).
function sessionStore() {
  let s;
  try {
    s = globalThis.sessionStorage;
  } catch { /* blocked: SecurityError */ }
  if (!s) throw new PkceWasmError("storage_error", "sessionStorage is not available for the login transaction");
  return {
    put: (k, v) => s.setItem(k, v),
    take: (k) => {
      const v = s.getItem(k);
      if (v !== null) s.removeItem(k);
      return v;
    },
  };
}

async function createInPage(config, wasmUrl, emit) {
  const bridge = await loadBridge(wasmUrl);
  const keys = config.dpop === true ? dpopKeys(config) : undefined;
  const core = await bridge.create(config, { store: sessionStore(), emit, shared: false, keys });
  return { core, runsIn: "page" };
}

// ---- isolation "worker": a proxy to pkce-wasm.worker.js ----

const HEARTBEAT_MS = 1000;
// A ping unanswered this long: the worker is gone. Generous, because a worker that is busy (a
// first WebAssembly compile in WebKit, a long GC) answers late, and a false "lost" signs a tab out.
const HEARTBEAT_DEAD_MS = 10000;
const START_TIMEOUT_MS = 30000;

const NULL_BODY_STATUS = [101, 103, 204, 205, 304];

// webKitEngine: Safari, and every browser on iOS. There a SharedWorker is not used: in WebKitGTK
// 2.50 one shared by three windows, or whose hosting window closes, stops for every tab (measured
// with js/test's WebKit driver), which would sign every tab out. Each tab gets a dedicated Worker.
function webKitEngine() {
  const ua = (globalThis.navigator && navigator.userAgent) || "";
  return /AppleWebKit\//.test(ua) && !/(Chrome|Chromium|Edg)\//.test(ua);
}

// WorkerCore is the worker's client seen from the page: the same methods as Go's client object,
// each a message to the worker. It notices a dead worker (a heartbeat: a killed SharedWorker may
// raise no error here), rejects what was pending with worker_lost, reports signedOut, and starts
// a fresh worker on the next call.
class WorkerCore {
  constructor(workerUrl, name, config, emit) {
    this.workerUrl = workerUrl;
    this.name = name;
    this.config = config;
    this.emit = emit;
    this.shared = typeof SharedWorker === "function" && !webKitEngine();
    this.conn = null;
    this.nextId = 1;
    this.started = false; // the first worker of this page has been started
  }

  // connect starts (or joins) the worker and resolves when it is ready for this configuration.
  connect() {
    if (this.conn) return this.conn.ready;
    const conn = { pending: new Map(), streams: new Map(), alive: true, pingSent: 0 };
    this.conn = conn;
    conn.ready = new Promise((resolve, reject) => {
      let w;
      try {
        w = this.shared
          ? new SharedWorker(this.workerUrl, { type: "module", name: this.name })
          : new Worker(this.workerUrl, { type: "module", name: this.name });
      } catch (err) {
        reject(new PkceWasmError("worker_failed", `cannot start the worker ${this.workerUrl}: ${err && err.message}`));
        return;
      }
      conn.worker = w;
      conn.port = this.shared ? w.port : w;
      conn.onReady = resolve;
      conn.onStartError = reject;
      conn.port.onmessage = (e) => this.onMessage(conn, e.data);
      w.onerror = (e) => {
        // A script that cannot load (404, wrong MIME type, blocked by CSP) or throws at start.
        const msg = (e && e.message) || "the worker script failed to load";
        if (e && e.preventDefault) e.preventDefault();
        this.lost(conn, new PkceWasmError("worker_failed", `${msg} (${this.workerUrl})`));
      };
      if (this.shared) conn.port.start();
      // On a redirect URI page the worker may take the login transaction out of IndexedDB while
      // the module loads (worker takeEarly) — unless this page hands the URL to another window's
      // dedicated worker (a popup or iframe callback without a shared worker). Only the client
      // whose redirect URI this page is does so: another create() on the page (bad options, a
      // second client) must not take the transaction from it (that was a state_mismatch).
      const href = (globalThis.location && globalThis.location.href) || "";
      const early = !this.started && isCallback(href) && isRedirectURI(href, this.config.redirectUri) && (this.shared || !callbackMode(href));
      this.started = true;
      conn.port.postMessage({ t: "init", protocol: PROTOCOL, config: this.config, callbackState: early ? callbackState(href) : undefined });
      conn.startTimer = setTimeout(() => this.lost(conn, new PkceWasmError("worker_failed", "the worker did not start in time")), START_TIMEOUT_MS);
      conn.heartbeat = setInterval(() => this.beat(conn), HEARTBEAT_MS);
    });
    conn.ready.catch(() => {});
    return conn.ready;
  }

  beat(conn) {
    if (!conn.alive || !conn.isReady) return; // starting: START_TIMEOUT_MS covers it
    const now = Date.now();
    // A timer that fires late means this page was throttled or suspended (a background tab): the
    // worker's answer may still be queued behind it. Ask again rather than call the worker dead.
    const late = conn.lastBeat && now - conn.lastBeat > 2 * HEARTBEAT_MS;
    conn.lastBeat = now;
    if (late) {
      conn.pingSent = now;
      conn.port.postMessage({ t: "ping" });
      return;
    }
    if (conn.pingSent && now - conn.pingSent > HEARTBEAT_DEAD_MS) {
      this.lost(conn, new PkceWasmError("worker_lost", "the worker stopped answering"));
      return;
    }
    if (!conn.pingSent) {
      conn.pingSent = now;
      conn.port.postMessage({ t: "ping" });
    }
  }

  // lost ends a connection: everything pending rejects, and a signed-in page hears signedOut.
  lost(conn, err) {
    if (!conn.alive) return;
    conn.alive = false;
    clearInterval(conn.heartbeat);
    clearTimeout(conn.startTimer);
    if (this.conn === conn) this.conn = null;
    const wasReady = conn.isReady;
    if (!wasReady) conn.onStartError(err);
    for (const p of conn.pending.values()) p.reject(err);
    conn.pending.clear();
    for (const s of conn.streams.values()) s.error(err);
    conn.streams.clear();
    try {
      if (this.shared) conn.port.close();
      else conn.worker.terminate();
    } catch { /* already gone */ }
    if (wasReady) this.emit("signedOut", { reason: "worker_lost" });
  }

  onMessage(conn, m) {
    if (!conn.alive || !m || typeof m !== "object") return;
    conn.pingSent = 0; // any message shows the worker is alive
    switch (m.t) {
      case "ready":
        conn.isReady = true;
        clearTimeout(conn.startTimer);
        conn.onReady(m.methods);
        break;
      case "initError":
        this.lost(conn, toError(m.error));
        break;
      case "event":
        if (EVENTS.includes(m.name)) this.emit(m.name, m.detail);
        break;
      case "result": {
        const p = conn.pending.get(m.id);
        if (!p) break;
        conn.pending.delete(m.id);
        if (m.error) p.reject(toError(m.error));
        else p.resolve(m.value);
        break;
      }
      case "chunk": {
        const s = conn.streams.get(m.id);
        if (s) s.enqueue(new Uint8Array(m.data));
        break;
      }
      case "end": {
        const s = conn.streams.get(m.id);
        conn.streams.delete(m.id);
        if (!s) break;
        if (m.error) s.error(toError(m.error));
        else s.close();
        break;
      }
    }
  }

  async call(method, args, transfer = [], onId) {
    await this.connect();
    const conn = this.conn;
    if (!conn) throw new PkceWasmError("worker_lost", "the worker stopped");
    const id = this.nextId++;
    const result = new Promise((resolve, reject) => conn.pending.set(id, { resolve, reject }));
    conn.port.postMessage({ t: "call", id, method, args }, transfer);
    if (onId) onId(id, conn);
    return result;
  }

  beginLogin(o) { return this.call("beginLogin", [o]); }
  callback(url) { return this.call("callback", [url]); }
  awaitCallback(state, timeoutMs) { return this.call("awaitCallback", [state, timeoutMs]); }
  prefetch() { return this.call("prefetch", []); }
  isAuthenticated() { return this.call("isAuthenticated", []); }
  getUser() { return this.call("getUser", []); }
  getUserInfo() { return this.call("getUserInfo", []); }
  logout(o) { return this.call("logout", [o]); }
  getSession(o) { return this.call("getSession", [o]); }
  getAccessToken() { return this.call("getAccessToken", []); }

  // fetch resolves the request here (relative URLs against this page), sends method, URL,
  // headers and the body (a transferred ArrayBuffer) to the worker, which adds the token, and
  // builds a Response from what comes back: status, headers and the body (a stream, or one buffer
  // when it is small).
  async fetch(input, init) {
    let req;
    try {
      req = new Request(input, init);
    } catch (err) {
      throw new PkceWasmError("invalid_config", `fetch arguments are not a valid request: ${err && err.message}`);
    }
    const signal = req.signal;
    if (signal && signal.aborted) throw signal.reason;
    // Request.body is missing in some browsers (Firefox): read every body that may exist.
    const body = req.method === "GET" || req.method === "HEAD" ? null : await req.arrayBuffer();
    const msg = {
      url: req.url, method: req.method, headers: [...req.headers], body,
      credentials: req.credentials, cache: req.cache, redirect: req.redirect, mode: req.mode === "navigate" ? "same-origin" : req.mode,
      referrerPolicy: req.referrerPolicy, integrity: req.integrity, keepalive: req.keepalive,
    };
    let onAbort = null;
    const head = await this.call("fetch", [msg], body ? [body] : [], (id, conn) => {
      if (!signal) return;
      // An abort rejects the call (or errors the body stream) here and tells the worker to stop.
      onAbort = () => {
        if (conn.alive) conn.port.postMessage({ t: "abort", id });
        const p = conn.pending.get(id);
        conn.pending.delete(id);
        if (p) p.reject(signal.reason);
        const s = conn.streams.get(id);
        conn.streams.delete(id);
        if (s) s.error(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }).catch((err) => {
      if (onAbort) signal.removeEventListener("abort", onAbort);
      throw err;
    });
    // A complete answer (no body, or one buffer) has nothing left to abort: a signal reused for
    // many calls does not keep a listener per call.
    if (onAbort && !(head.body instanceof ReadableStream) && !head.chunked) signal.removeEventListener("abort", onAbort);
    return this.response(head);
  }

  response(head) {
    let body = null;
    if (!NULL_BODY_STATUS.includes(head.status) && head.status !== 0) {
      if (head.body instanceof ReadableStream || head.body instanceof ArrayBuffer) {
        body = head.body;
      } else if (head.chunked) {
        const conn = this.conn;
        body = new ReadableStream({
          start: (controller) => {
            if (conn) conn.streams.set(head.id, controller);
            else controller.error(new PkceWasmError("worker_lost", "the worker stopped"));
          },
          cancel: () => {
            if (conn && conn.alive) {
              conn.streams.delete(head.id);
              conn.port.postMessage({ t: "abort", id: head.id });
            }
          },
        });
      }
    }
    let res;
    if (head.status === 0) {
      // An opaque (no-cors) or opaque-redirect answer: the constructor cannot make status 0.
      res = Response.error();
    } else {
      res = new Response(body, { status: head.status, statusText: head.statusText, headers: head.headers });
    }
    // What the Response constructor does not carry: the final URL, redirected, and the type.
    Object.defineProperties(res, {
      url: { value: head.url, enumerable: true },
      redirected: { value: head.redirected, enumerable: true },
      type: { value: head.type, enumerable: true },
    });
    return res;
  }
}

async function createInWorker(config, workerUrl, emit) {
  const name = await workerName(config);
  const core = new WorkerCore(workerUrl, name, config, emit);
  const methods = await core.connect();
  if (!(Array.isArray(methods) && methods.includes("getAccessToken"))) core.getAccessToken = undefined;
  return { core, runsIn: core.shared ? "shared-worker" : "worker" };
}

function absoluteURL(u, base) {
  try {
    return new URL(u, base).href;
  } catch {
    throw new PkceWasmError("invalid_config", `not a URL: ${u}`);
  }
}

export const PkceWasm = {
  /**
   * Start the client (in a worker by default, once per configuration and origin) and return it.
   * Validates the options; does no network I/O besides loading the worker and the module.
   */
  async create(options) {
    if (!options || typeof options !== "object") throw new PkceWasmError("invalid_config", "create needs an options object");
    const isolation = options.isolation === undefined ? "worker" : options.isolation;
    if (isolation !== "worker" && isolation !== "page") {
      throw new PkceWasmError("invalid_config", 'isolation must be "worker" (default) or "page"');
    }
    const base = typeof location === "object" ? location.href : undefined;
    const wasmUrl = absoluteURL(options.wasmUrl || new URL("./pkce.wasm", import.meta.url), base);
    const config = {};
    for (const [k, v] of Object.entries(options)) if (!PAGE_OPTIONS.includes(k)) config[k] = v;

    const events = new EventTarget();
    const emit = (name, detail) => events.dispatchEvent(new CustomEvent(name, { detail }));
    let started;
    if (isolation === "page") {
      started = await createInPage(config, wasmUrl, emit);
    } else {
      if (typeof SharedWorker !== "function" && typeof Worker !== "function") {
        throw new PkceWasmError("worker_failed", 'this browser has no Worker; pass isolation: "page" to run in the page (weaker, see README)');
      }
      const workerUrl = absoluteURL(options.workerUrl || new URL("./pkce-wasm.worker.js", import.meta.url), base);
      started = await createInWorker({ ...config, wasmUrl }, workerUrl, emit);
    }
    // On the redirect URI page the exchange needs discovery and the JWKS: fetch them while the
    // app is still starting up.
    if (isCallback()) started.core.prefetch().catch(() => {});
    return makeClient(started.core, { runsIn: started.runsIn, events });
  },

  isCallback,
};

export default PkceWasm;
