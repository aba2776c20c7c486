// What a hostile script in the app's origin can do, as code the isolation tests install in pages
// (js/test/isolation.test.mjs). Nothing here is a test; it only records.
//
// HOOKS runs in a page before the app's own code (the dev server with -test-hooks puts it first in
// every HTML page of the app: hooksScript, server/inject.go). It wraps every page-level path a
// token could travel — fetch, XMLHttpRequest, Headers, Request, Response body readers, stream
// readers, JSON, TextDecoder, atob/btoa, postMessage and `message` events of Window, Worker,
// MessagePort (SharedWorker ports) and BroadcastChannel, web storage, IndexedDB writes, cookies,
// history, console — and pushes every string it sees to window.__seen and, in batches, to the
// server's record (POST /__test/inject/seen, with a fetch captured before anything is wrapped),
// so that what it saw survives navigations in every browser. The test then asks the OP which
// tokens it issued and looks for each in what was seen.

/** The whole script the server injects: HOOKS, told the library's channel names; optionally run without SharedWorker. */
export function hooksScript({ channelNames = [], removeSharedWorker = false } = {}) {
  return [
    // Proof of position: when this runs, it is the only script the parser has met in the page.
    "window.__hooksFirst = document.scripts.length === 1;",
    // Dedicated-worker mode on demand, before the app looks for SharedWorker.
    removeSharedWorker ? "delete window.SharedWorker;" : "",
    `window.__channelNames = ${JSON.stringify(channelNames)};`,
    `window.__hooksSink = "/__test/inject/seen";`,
    HOOKS,
  ].join("\n");
}

export const HOOKS = `(() => {
  if (window.__seen) return;
  const local = (window.__seen = []);
  // The recorder uses these, captured before they are wrapped, and never records itself.
  const stringify = JSON.stringify, decoder = new TextDecoder(), decode = TextDecoder.prototype.decode;
  const text = (u8) => decode.call(decoder, u8);
  // Everything seen also goes to the server's record, so that it survives navigations: batched,
  // with the page's own fetch and sendBeacon captured before they are wrapped (never recorded).
  let busy = false;
  const sink = window.__hooksSink, post = window.fetch, beacon = navigator.sendBeacon && navigator.sendBeacon.bind(navigator);
  const later = window.setTimeout;
  const pageId = (window.__hooksPage = Math.random().toString(36).slice(2) + Date.now().toString(36));
  let queue = [], timer = 0;
  // Reports in flight, so that the test can wait for all of them.
  const inflight = new Set();
  const track = (p) => { inflight.add(p); p.then(() => inflight.delete(p)); return p; };
  const send = (lines, unloading) => {
    const body = stringify({ page: pageId, lines });
    // While the page unloads only a beacon or a keepalive fetch (at most 64 KB in flight) gets out
    // (20000 characters: at most 60 KB of UTF-8).
    const small = body.length < 20000;
    if (unloading && beacon && small && beacon(sink, body)) return Promise.resolve();
    const sent = (res) => { if (!res.ok) throw new Error("HTTP " + res.status); };
    return track(post.call(window, sink, { method: "POST", body, keepalive: small }).then(sent)
      .catch(() => post.call(window, sink, { method: "POST", body }).then(sent))
      .catch((e) => { window.__hooksLost = (window.__hooksLost || 0) + lines.length; window.__hooksError = String(e); }));
  };
  // A long line (a body, the DOM) goes in pieces that overlap by more than any token's length,
  // so that a token in it is whole in one piece.
  const PIECE = 1 << 18, OVERLAP = 1 << 13;
  const flush = (unloading) => {
    timer = 0;
    const out = [];
    for (let chunk = [], size = 0, i = 0; i < queue.length; i++) {
      chunk.push(queue[i]);
      size += queue[i].length;
      if (size > 50000 || i === queue.length - 1) { out.push(send(chunk, unloading)); chunk = []; size = 0; }
    }
    queue = [];
    return Promise.all(out);
  };
  window.addEventListener("pagehide", () => flush(true));
  // The test calls it before reading the record.
  window.__flushHooks = () => { const n = local.length; flush(false); return Promise.all([...inflight]).then(() => n); };
  const seen = { push(s) {
    local.push(s);
    if (!sink) return;
    if (s.length <= PIECE) queue.push(s);
    else for (let i = 0; i < s.length; i += PIECE - OVERLAP) queue.push(s.slice(0, s.indexOf(":")) + " (piece): " + s.slice(i, i + PIECE));
    if (!timer) timer = later(() => flush(false), 50);
  } };
  const rec = (where, v) => {
    if (busy) return;
    busy = true;
    let line;
    try {
      if (v == null) return;
      if (typeof v === "string") line = v;
      else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
        const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        line = text(u8.slice(0, 1 << 20));
      } else if (v instanceof Headers) line = stringify([...v]);
      else if (typeof v === "object" || typeof v === "function") {
        try { line = stringify(v, (k, x) => (x instanceof ArrayBuffer || ArrayBuffer.isView(x) ? text(new Uint8Array(x.buffer || x)) : x)); } catch { line = String(v); }
      } else line = String(v);
    } catch (e) { line = "<unrecordable " + e + ">"; } finally { busy = false; }
    if (line !== undefined) seen.push(where + ": " + line);
  };
  const wrap = (obj, name, where, after) => {
    const orig = obj && obj[name];
    if (typeof orig !== "function") return;
    obj[name] = function (...args) {
      args.forEach((a, i) => rec(where + "(arg" + i + ")", a));
      const r = orig.apply(this, args);
      if (after) after(r, args);
      return r;
    };
  };
  const recPromise = (where) => (p) => { if (p && typeof p.then === "function") p.then((v) => rec(where, v), () => {}); };

  // Network.
  // The bodies are read with the original readers (wrapped below), so that each is recorded once.
  // A WebAssembly module is not: it is the library's static code (megabytes that cost the suite
  // seconds per page load in isolation "page"), which cannot hold a token issued at run time.
  const origFetch = window.fetch, reqText = Request.prototype.text, resText = Response.prototype.text, headerOf = Headers.prototype.get;
  window.fetch = function (input, init) {
    rec("fetch url", input instanceof Request ? input.url : String(input));
    if (input instanceof Request) { rec("fetch req headers", input.headers); reqText.call(input.clone()).then((t) => rec("fetch req body", t), () => {}); }
    if (init) { rec("fetch init", init); if (init.headers) rec("fetch init headers", new Headers(init.headers)); if (init.body) rec("fetch init body", init.body); }
    return origFetch.apply(this, arguments).then((res) => {
      rec("fetch res headers", res.headers);
      if ((headerOf.call(res.headers, "content-type") || "").toLowerCase().startsWith("application/wasm")) rec("fetch res body", "(a WebAssembly module, not recorded)");
      else resText.call(res.clone()).then((t) => rec("fetch res body", t), () => {});
      return res;
    });
  };
  wrap(XMLHttpRequest.prototype, "open", "xhr.open");
  wrap(XMLHttpRequest.prototype, "send", "xhr.send");
  wrap(XMLHttpRequest.prototype, "setRequestHeader", "xhr.setRequestHeader");
  for (const m of ["set", "append", "get"]) wrap(Headers.prototype, m, "Headers." + m, (r) => rec("Headers." + m + " ->", r));
  for (const m of ["text", "json", "arrayBuffer", "blob", "formData"]) wrap(Response.prototype, m, "Response." + m, recPromise("Response." + m + " ->"));
  for (const m of ["text", "json", "arrayBuffer"]) wrap(Request.prototype, m, "Request." + m, recPromise("Request." + m + " ->"));
  // Bodies read chunk by chunk (as the Go client reads them): the chunks, as the reader hands them
  // out. (A cloned body is not enough: an aborted request errors the clone before it is read.)
  if (window.ReadableStreamDefaultReader) wrap(ReadableStreamDefaultReader.prototype, "read", "ReadableStream read", recPromise("ReadableStream read ->"));
  const OrigRequest = window.Request;
  window.Request = function (input, init) { rec("new Request", input); rec("new Request init", init); return new OrigRequest(input, init); };
  window.Request.prototype = OrigRequest.prototype;
  const OrigResponse = window.Response;
  const ResponseHook = function (body, init) { rec("new Response body", body); rec("new Response init", init); return new OrigResponse(body, init); };
  ResponseHook.prototype = OrigResponse.prototype;
  ResponseHook.error = OrigResponse.error; ResponseHook.json = OrigResponse.json; ResponseHook.redirect = OrigResponse.redirect;
  window.Response = ResponseHook;

  // Parsers and codecs.
  wrap(JSON, "parse", "JSON.parse", (r) => rec("JSON.parse ->", r));
  wrap(JSON, "stringify", "JSON.stringify", (r) => rec("JSON.stringify ->", r));
  wrap(TextDecoder.prototype, "decode", "TextDecoder.decode", (r) => rec("TextDecoder.decode ->", r));
  wrap(TextEncoder.prototype, "encode", "TextEncoder.encode");
  wrap(window, "atob", "atob", (r) => rec("atob ->", r));
  wrap(window, "btoa", "btoa");

  // Messages: everything posted, and everything received.
  wrap(window, "postMessage", "window.postMessage");
  for (const C of [window.Worker, window.MessagePort, window.BroadcastChannel, window.ServiceWorker]) {
    if (C) wrap(C.prototype, "postMessage", C.name + ".postMessage");
  }
  const onMessage = (where) => (e) => rec(where, e.data);
  window.addEventListener("message", onMessage("window message"), true);
  const origAdd = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, opts) {
    if (type === "message" && (this instanceof MessagePort || (window.Worker && this instanceof Worker) || (window.BroadcastChannel && this instanceof BroadcastChannel))) {
      origAdd.call(this, "message", onMessage((this.constructor && this.constructor.name) + " message"));
    }
    return origAdd.call(this, type, fn, opts);
  };
  for (const C of [window.MessagePort, window.Worker, window.BroadcastChannel]) {
    if (!C) continue;
    const d = Object.getOwnPropertyDescriptor(C.prototype, "onmessage");
    if (!d || !d.set) continue;
    Object.defineProperty(C.prototype, "onmessage", {
      configurable: true,
      get: d.get,
      set(fn) {
        const where = C.name + " onmessage";
        d.set.call(this, fn && ((e) => { rec(where, e.data); return fn.call(this, e); }));
      },
    });
  }
  // The library's own channel names, and the callback channel: listen to everything on them.
  if (window.BroadcastChannel) {
    for (const n of ["pkce-wasm:callback", window.__channelNames || []].flat()) {
      const bc = new BroadcastChannel(n);
      origAdd.call(bc, "message", onMessage("BroadcastChannel(" + n + ")"));
    }
  }

  // Storage, cookies, history, console.
  wrap(Storage.prototype, "setItem", "Storage.setItem");
  wrap(Storage.prototype, "getItem", "Storage.getItem", (r) => rec("Storage.getItem ->", r));
  wrap(IDBObjectStore.prototype, "put", "IDBObjectStore.put");
  wrap(IDBObjectStore.prototype, "add", "IDBObjectStore.add");
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(document, "cookie", { configurable: true, get() { const v = cookie.get.call(this); rec("cookie get", v); return v; }, set(v) { rec("cookie set", v); cookie.set.call(this, v); } });
  wrap(history, "pushState", "history.pushState");
  wrap(history, "replaceState", "history.replaceState");
  for (const m of ["log", "info", "warn", "error", "debug"]) wrap(console, m, "console." + m);
  // What a script reads straight off the page.
  window.__snapshot = () => {
    rec("location", location.href);
    rec("DOM", document.documentElement.outerHTML);
    try { for (let i = 0; i < localStorage.length; i++) rec("localStorage", localStorage.key(i) + "=" + localStorage.getItem(localStorage.key(i))); } catch {}
    try { for (let i = 0; i < sessionStorage.length; i++) rec("sessionStorage", sessionStorage.key(i) + "=" + sessionStorage.getItem(sessionStorage.key(i))); } catch {}
    rec("cookie", document.cookie);
  };
})();`;

// attackerArgs computes, in page (any page of the app's origin), what attackerPage needs: the
// worker's URL and name, from what is public — the app's /config.json and the library's own code.
export function attackerArgs(page) {
  return page.evaluate(async () => {
    const cfg = await (await fetch("/config.json")).json();
    const { _workerSupport } = await import("/pkce/pkce-wasm.js");
    const config = { ...cfg, wasmUrl: new URL("/pkce/pkce.wasm", location.href).href };
    return { workerUrl: new URL("/pkce/pkce-wasm.worker.js", location.href).href, name: await _workerSupport.workerName(config), config };
  });
}

// attackerPage runs in a second same-origin page that never loads the library: it opens the
// library's BroadcastChannels and its SharedWorker (same URL and name, as any same-origin script
// can), listens to everything, and tries to get tokens or plant a forged session. Where the app
// runs no SharedWorker (WebKit, SharedWorker removed, isolation "page") the one it opens is new
// and empty: the app's dedicated Worker cannot be reached from another page.
// Argument: { workerUrl, name, config, channelNames, forgedIdToken } (name: the app's worker name).
export async function attackerPage(page, args) {
  return page.evaluate(async ({ workerUrl, name, config, channelNames, forgedIdToken }) => {
    const seen = (window.__seen = window.__seen || []);
    // Byte payloads (body chunks where streams cannot be transferred, as in WebKit) as text too.
    const bytes = (x) => (x instanceof ArrayBuffer || ArrayBuffer.isView(x) ? new TextDecoder().decode(x) : x);
    const rec = (where, v) => seen.push(where + ": " + (typeof v === "string" ? v : JSON.stringify(v, (k, x) => bytes(x))));
    const forged = {
      type: "session", from: "attacker", session: { access_token: "forged-access", refresh_token: "forged-refresh", id_token: forgedIdToken, expires_at: 4102444800, issued_at: 4102444800 },
    };
    for (const n of channelNames) {
      const bc = new BroadcastChannel(n);
      bc.onmessage = (e) => rec("bc " + n, e.data);
      bc.postMessage(JSON.stringify({ type: "query", from: "attacker" }));
      bc.postMessage({ type: "query", from: "attacker" });
      bc.postMessage(JSON.stringify(forged));
      bc.postMessage(forged);
      window.__keep = (window.__keep || []).concat(bc);
    }
    const results = {};
    if (typeof SharedWorker === "function" && name) {
      const w = new SharedWorker(workerUrl, { type: "module", name });
      const port = w.port;
      const pending = new Map();
      port.onmessage = (e) => {
        rec("worker port", e.data);
        const m = e.data;
        if (m && m.t === "result" && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
        if (m && (m.t === "ready" || m.t === "initError")) { pending.get("init")?.(m); pending.delete("init"); }
      };
      port.start();
      const init = (cfg) => new Promise((res) => { pending.set("init", res); port.postMessage({ t: "init", protocol: 1, config: cfg }); setTimeout(() => res({ t: "timeout" }), 10000); });
      let n = 1;
      const call = (method, a) => new Promise((res) => { const id = n++; pending.set(id, res); port.postMessage({ t: "call", id, method, args: a }); setTimeout(() => res({ t: "timeout" }), 10000); });
      // Before a valid init nothing is served; a widened configuration is refused.
      results.callBeforeInit = await call("getUser", []);
      results.widened = await init({ ...config, resourceOrigins: [...(config.resourceOrigins || []), "https://evil.example"] });
      results.init = await init(config);
      results.getAccessToken = await call("getAccessToken", []);
      results.getUser = await call("getUser", []);
      results.isAuthenticated = await call("isAuthenticated", []);
      results.forgedCallback = await call("callback", [config.redirectUri + "?code=forged&state=forged"]);
      results.planted = await call("setSession", [forged.session]);
      // Proxying is possible (documented): the answer is the API's, never a token.
      results.proxied = await call("fetch", [{ url: new URL("/api/me", location.href).href, method: "GET", headers: [] }]);
      if (results.proxied && results.proxied.value) {
        const v = results.proxied.value;
        results.proxiedStatus = v.status;
        if (v.body instanceof ReadableStream) rec("proxied body", await new Response(v.body).text());
      }
    }
    return { results, seen: seen.slice() };
  }, args);
}
