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

export const PkceWasm = {
  /**
   * Load the WASM module (once per page) and create a client. Validates the options; does no
   * network I/O besides loading the module.
   */
  async create(options) {
    let wasmUrl = options && options.wasmUrl;
    if (!wasmUrl) wasmUrl = new URL("./pkce.wasm", import.meta.url);
    const bridge = await load(wasmUrl);
    return bridge.create(options);
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
