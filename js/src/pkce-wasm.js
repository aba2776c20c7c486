// pkce-wasm loader: instantiates the Go WebAssembly client and hands out client objects.
// The protocol work (PKCE, callback and token validation, token storage in memory) happens in
// WASM; this file only loads it and defines the error class.
import "./wasm_exec.js"; // defines globalThis.Go (shipped from $(go env GOROOT)/lib/wasm)

/** Error thrown (rejected) by every pkce-wasm call. `code` is stable; branch on it. */
export class PkceWasmError extends Error {
  constructor(code, description) {
    super(description ? `${code}: ${description}` : code);
    this.name = "PkceWasmError";
    this.code = code;
    this.description = description || "";
  }
}

let loading = null;

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

function load(wasmUrl) {
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

const EVENTS = ["tokenRefreshed", "tokenExpiring", "signedOut", "error"];

// wrapClient adds event subscription to the Go client object. Listeners get the event's detail
// (never a token). on() returns an unsubscribe function.
function wrapClient(inner, events) {
  const listeners = new Map();
  const off = (name, fn) => {
    const l = listeners.get(fn)?.get(name);
    if (l) {
      events.removeEventListener(name, l);
      listeners.get(fn).delete(name);
    }
  };
  return Object.freeze({
    ...inner,
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
  });
}

export const PkceWasm = {
  /**
   * Load the WASM module (once per page) and create a client. Validates the options; does no
   * network I/O besides loading the module.
   */
  async create(options) {
    let wasmUrl = options && options.wasmUrl;
    if (!wasmUrl) wasmUrl = new URL("./pkce.wasm", import.meta.url);
    const bridge = await load(wasmUrl);
    const events = new EventTarget();
    const emit = (name, detail) => events.dispatchEvent(new CustomEvent(name, { detail }));
    const inner = await bridge.create(options, emit);
    return wrapClient(inner, events);
  },

  /** True when `href` carries an authorization response (state plus code or error). */
  isCallback(href = globalThis.location && globalThis.location.href) {
    try {
      const q = new URL(href).searchParams;
      return q.has("state") && (q.has("code") || q.has("error"));
    } catch {
      return false;
    }
  },
};

export default PkceWasm;
