// pkce-wasm demo SPA.
//
// Loads /config.json from the dev server, creates the client (in a worker by default), handles the
// OAuth callback when the page is the redirect URI, and renders the session, the API call, a
// token-theft attempt and the client's events.
//
// Contract with the end-to-end tests (js/test/e2e.test.mjs, lifecycle.test.mjs, demo.test.mjs):
//   window.auth                  the PkceWasm client instance
//   body[data-ready="true"]      initial rendering (including callback handling) is finished
//                                (not set on a page that leaves for a silent sign-in)
//   #status[data-state]          "signed-in" | "signed-out" (text "Signed in as <name|sub>" / "Signed out")
//   #login #logout #call-api     buttons, shown/hidden by state
//   #login-popup                 signs in in a popup (auth.loginPopup); the page stays
//   #claims                      ID-token claims JSON (auth.getUser()), in the "Raw claims" details
//   #claims-table                the same claims as a table, one row per claim (tr[data-claim]);
//                                dates (exp, iat, auth_time, …) as dates
//   #session-user                who is signed in; #session-runs[data-mode] "shared-worker" |
//                                "worker" | "page": where the client runs
//   #session-expiry[data-seconds] the access token's remaining lifetime, counting down, from
//                                auth.getSession().expiresAt (never the token); #refresh-now: auth.refresh()
//   #api-result[data-status]     HTTP status of the last auth.fetch("/api/me") and its JSON body;
//                                #api-scheme the Authorization scheme the API received (Bearer, DPoP)
//   #steal / #steal-result[data-found="yes"|"no"]  what a script in this page could grab; the
//                                text lists where a JWT was seen, never the value
//   #event-log > li[data-event]  tokenRefreshed, tokenExpiring, signedOut (reason), error (code),
//                                newest first, at most 50
//   #notice[data-kind]           what happened on load: "signed-out" (back from logout),
//                                "silent-ok" / "silent-none" (silent sign-in found a session at the
//                                provider, or none), "session-ended" (signed in before this reload,
//                                not any more), "session-kept", "joined" (another tab's session)
//   #error[data-code]            "<code>: <message>" of the last caught error; hidden when none
//
// Never log or display a token: only ID-token claims, token-free session facts and API responses.
//
// Silent sign-in: on a plain load with no session the demo tries ONE top-level prompt=none
// sign-in (auth.signInSilently({mode: "redirect"})) — the library never does this by itself. A
// sessionStorage marker ("pkce-demo.silent", a time stamp) keeps it from looping: no second
// attempt in this tab within 5 minutes; a successful sign-in clears it. Not after a logout, not on
// the callback page. `?silent=0` turns it off for this tab (the other e2e tests use it, they
// expect a signed-out start), `?silent=1` turns it back on and forgets the marker.
//
// Extra client options for experiments and tests come from the query string, e.g.
// /?autoRefresh=0&refreshMarginSeconds=5&isolation=page, and are kept in sessionStorage
// ("pkce-demo.options", options only) so that they survive the round trip to the OP in this tab.
// Without such parameters the client gets /config.json as it is. sessionStorage also holds the
// demo's flags ("pkce-demo.silent", ".noSilent", ".signedOut", ".hadSession"): never a token.

const $ = (id) => document.getElementById(id);

const els = {
  status: $("status"),
  notice: $("notice"),
  error: $("error"),
  login: $("login"),
  loginPopup: $("login-popup"),
  logout: $("logout"),
  callApi: $("call-api"),
  claims: $("claims"),
  claimsTable: $("claims-table"),
  apiResult: $("api-result"),
  apiStatus: $("api-status"),
  apiScheme: $("api-scheme"),
  sessionUser: $("session-user"),
  sessionExpiry: $("session-expiry"),
  sessionScope: $("session-scope"),
  sessionRefreshable: $("session-refreshable"),
  sessionRuns: $("session-runs"),
  refreshNow: $("refresh-now"),
  steal: $("steal"),
  stealResult: $("steal-result"),
  isolationSwitch: $("isolation-switch"),
  eventLog: $("event-log"),
};

let auth = null;
let options = {};
let expiresAt = null; // of the current access token (unix seconds), from auth.getSession()

function errorCode(err) {
  if (err && typeof err === "object" && typeof err.code === "string" && err.code) return err.code;
  return "error";
}

function errorMessage(err) {
  if (err && typeof err === "object") {
    const msg = err.description || err.message;
    if (msg) return String(msg);
  }
  return String(err);
}

function showError(err) {
  const code = errorCode(err);
  els.error.dataset.code = code;
  els.error.textContent = `${code}: ${errorMessage(err)}`;
  els.error.hidden = false;
}

function clearError() {
  els.error.dataset.code = "";
  els.error.textContent = "";
  els.error.hidden = true;
}

function notify(kind, text) {
  els.notice.dataset.kind = kind;
  els.notice.textContent = text;
  els.notice.hidden = !text;
}

function setBusy(busy) {
  for (const b of [els.login, els.loginPopup, els.logout, els.callApi, els.refreshNow, els.steal]) b.disabled = busy;
}

// ---- small storage helpers (flags and time stamps only) ----

function flag(name, value) {
  const key = `pkce-demo.${name}`;
  try {
    if (value === undefined) return sessionStorage.getItem(key);
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, String(value));
  } catch { /* storage blocked: the demo works without its flags */ }
  return null;
}

// ---- rendering ----

const DATE_CLAIMS = ["exp", "iat", "nbf", "auth_time", "updated_at"];

function formatDate(secs) {
  const d = new Date(secs * 1000);
  return `${d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}`;
}

function relative(secs) {
  const diff = Math.round(secs - Date.now() / 1000);
  const abs = Math.abs(diff);
  const span = abs < 90 ? `${abs} s` : abs < 5400 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return diff >= 0 ? `in ${span}` : `${span} ago`;
}

function renderClaims(user) {
  const body = els.claimsTable.tBodies[0];
  body.replaceChildren();
  if (!user) {
    const tr = body.insertRow();
    const td = tr.insertCell();
    td.colSpan = 2;
    td.className = "muted";
    td.textContent = "Not signed in";
    return;
  }
  for (const [name, value] of Object.entries(user)) {
    const tr = body.insertRow();
    tr.dataset.claim = name;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = name;
    tr.appendChild(th);
    const td = tr.insertCell();
    if (DATE_CLAIMS.includes(name) && typeof value === "number") {
      const time = document.createElement("time");
      time.dateTime = new Date(value * 1000).toISOString();
      time.textContent = formatDate(value);
      td.append(time, ` (${relative(value)})`);
      td.classList.add("date");
    } else {
      td.textContent = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
}

const RUNS_IN = {
  page: "this page (isolation: \"page\" — weaker: page scripts can see tokens)",
  "shared-worker": "a shared worker (one for all tabs of this app)",
  worker: "a dedicated worker (one per tab)",
};

function clientMode() {
  const mode = auth ? auth.runsIn : options.isolation === "page" ? "page" : "";
  return [mode, RUNS_IN[mode] || "—"];
}

function renderCountdown() {
  if (expiresAt == null) {
    els.sessionExpiry.dataset.seconds = "";
    els.sessionExpiry.textContent = auth && els.status.dataset.state === "signed-in" ? "no lifetime given by the provider" : "—";
    return;
  }
  const left = Math.max(0, Math.round(expiresAt - Date.now() / 1000));
  const mm = Math.floor(left / 60);
  const ss = String(left % 60).padStart(2, "0");
  els.sessionExpiry.dataset.seconds = String(left);
  els.sessionExpiry.textContent = left > 0 ? `expires in ${mm}:${ss} (at ${new Date(expiresAt * 1000).toLocaleTimeString()})` : "expired (refreshed on the next use)";
}

async function render() {
  let user = null;
  let signedIn = false;
  let session = null;
  if (auth) {
    signedIn = await auth.isAuthenticated();
    if (signedIn) [user, session] = await Promise.all([auth.getUser(), auth.getSession()]);
  }
  const who = (user && (user.name || user.sub)) || "unknown user";
  if (signedIn) {
    els.status.textContent = `Signed in as ${who}`;
    els.status.dataset.state = "signed-in";
    els.claims.textContent = user ? JSON.stringify(user, null, 2) : "—";
    els.sessionUser.textContent = user && user.email && user.email !== who ? `${who} (${user.email})` : who;
    flag("hadSession", "1");
  } else {
    els.status.textContent = "Signed out";
    els.status.dataset.state = "signed-out";
    els.claims.textContent = "—";
    els.sessionUser.textContent = "nobody";
    flag("hadSession", null);
  }
  renderClaims(signedIn ? user : null);
  expiresAt = session && typeof session.expiresAt === "number" ? session.expiresAt : null;
  renderCountdown();
  els.sessionScope.textContent = (session && session.scope) || "—";
  els.sessionRefreshable.textContent = session ? (session.refreshable ? "held by the client (never shown)" : "none") : "—";
  const [mode, where] = clientMode();
  els.sessionRuns.dataset.mode = mode;
  els.sessionRuns.textContent = where;
  els.refreshNow.hidden = !session || !session.refreshable;
  els.isolationSwitch.href = mode === "page" ? "/?isolation=worker" : "/?isolation=page";
  els.isolationSwitch.textContent = mode === "page" ? "Switch back to worker isolation" : "Switch to the weaker page mode";
  els.login.hidden = !auth || signedIn;
  els.loginPopup.hidden = !auth || signedIn;
  els.logout.hidden = !auth || !signedIn;
  // The API button stays available when signed out, to show what happens without a token
  // (HTTP 401 from the API, or login_required from the client).
  els.callApi.hidden = !auth;
  els.steal.hidden = !auth;
}

// ---- the event log ----

const LOG_MAX = 50;

function logEvent(name, detail) {
  let text = name;
  const d = detail && typeof detail === "object" ? detail : {};
  const at = typeof d.expiresAt === "number" ? new Date(d.expiresAt * 1000).toLocaleTimeString() : "";
  if (name === "tokenRefreshed") {
    text += ` — new access token${at ? `, expires at ${at}` : ""}${d.source ? ` (${d.source})` : ""}`;
  } else if (name === "tokenExpiring") {
    text += ` — the access token expires${at ? ` at ${at}` : " soon"}`;
  } else if (name === "signedOut") {
    text += ` — reason: ${d.reason || "unknown"}`;
  } else if (name === "error") {
    text += ` — ${d.code || "error"}${d.during ? ` during ${d.during}` : ""}`;
  }
  const li = document.createElement("li");
  li.dataset.event = name;
  if (d.reason) li.dataset.reason = d.reason;
  if (d.code) li.dataset.code = d.code;
  const time = document.createElement("time");
  time.dateTime = new Date().toISOString();
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, ` ${text}`);
  els.eventLog.querySelector(".empty")?.remove();
  els.eventLog.prepend(li);
  while (els.eventLog.children.length > LOG_MAX) els.eventLog.lastElementChild.remove();
}

// ---- actions ----

async function onLogin() {
  clearError();
  setBusy(true);
  try {
    // Navigates to the OP; the promise does not settle on success.
    await auth.login({ returnTo: "/" });
  } catch (err) {
    showError(err);
    setBusy(false);
  }
}

async function onLoginPopup() {
  clearError();
  setBusy(true);
  try {
    // Must run inside the click: loginPopup opens the window synchronously.
    await auth.loginPopup({ returnTo: "/" });
    flag("silent", null);
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
    await render().catch(showError);
  }
}

async function onLogout() {
  clearError();
  setBusy(true);
  // Back from the provider, the page says "Signed out" (a flag in this tab's sessionStorage).
  flag("signedOut", Date.now());
  try {
    // Usually navigates to the provider's end_session_endpoint and back; otherwise stays here.
    await auth.logout({ returnTo: "/" });
    notify("signed-out", "Signed out.");
    setBusy(false);
    await render().catch(showError);
  } catch (err) {
    flag("signedOut", null);
    showError(err);
    setBusy(false);
    await render().catch(showError);
  }
}

async function onCallApi() {
  clearError();
  setBusy(true);
  els.apiResult.dataset.status = "";
  els.apiStatus.textContent = "…";
  els.apiScheme.textContent = "—";
  try {
    const res = await auth.fetch("/api/me");
    const text = await res.text();
    let body;
    let scheme = "none (no token sent)";
    try {
      const json = JSON.parse(text);
      if (json && typeof json.scheme === "string" && json.scheme) scheme = json.scheme;
      body = JSON.stringify(json, null, 2);
    } catch {
      body = text || "(empty body)";
    }
    els.apiStatus.textContent = `HTTP ${res.status}`;
    els.apiScheme.textContent = res.ok ? scheme : `— (HTTP ${res.status})`;
    els.apiResult.textContent = body;
    els.apiResult.dataset.status = String(res.status);
  } catch (err) {
    els.apiStatus.textContent = "failed";
    els.apiResult.textContent = "—";
    els.apiResult.dataset.status = "error";
    showError(err);
  } finally {
    setBusy(false);
  }
}

async function onRefreshNow() {
  clearError();
  setBusy(true);
  try {
    const s = await auth.refresh();
    expiresAt = s && typeof s.expiresAt === "number" ? s.expiresAt : null;
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
    await render().catch(showError);
  }
}

// ---- "try to steal the token" ----
// What a script injected into this page (XSS, a compromised dependency) can do once the app is
// running: wrap the page's network, codec and messaging functions, read every storage, then make
// the app call its API and watch. It keeps no value it sees: only whether a JWT-shaped string
// (three base64url parts) passed, and where. The fuller attack, with hooks installed before the
// app starts and a second page attacking the worker, is js/test/isolation.test.mjs.

const JWT_RE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/;

function asText(v) {
  if (v == null) return "";
  if (typeof v === "string") return v;
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    try {
      const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      return new TextDecoder().decode(u8.slice(0, 1 << 20));
    } catch {
      return "";
    }
  }
  if (v instanceof Headers) return [...v].map(([k, x]) => `${k}: ${x}`).join("\n");
  try {
    return JSON.stringify(v) || String(v);
  } catch {
    return String(v);
  }
}

async function readIndexedDB(see) {
  let names = ["pkce-wasm"];
  try {
    if (indexedDB.databases) names = (await indexedDB.databases()).map((d) => d.name);
  } catch { /* not supported here: try the library's database by name */ }
  for (const name of names) {
    await new Promise((resolve) => {
      const req = indexedDB.open(name);
      req.onerror = () => resolve();
      req.onsuccess = () => {
        const db = req.result;
        const stores = [...db.objectStoreNames];
        if (!stores.length) {
          db.close();
          return resolve();
        }
        const tx = db.transaction(stores, "readonly");
        for (const s of stores) {
          const g = tx.objectStore(s).getAll();
          g.onsuccess = () => see(`IndexedDB ${name}/${s}`, g.result);
        }
        tx.oncomplete = tx.onerror = tx.onabort = () => {
          db.close();
          resolve();
        };
      };
    });
  }
}

async function stealAttempt(config) {
  const places = new Map(); // where → found (boolean); never the value
  let guard = false;
  const see = (where, v) => {
    if (guard) return;
    guard = true;
    try {
      const hit = JWT_RE.test(asText(v));
      places.set(where, places.get(where) || hit);
    } finally {
      guard = false;
    }
  };
  const undo = [];
  const wrap = (obj, name, where, { result = false } = {}) => {
    const orig = obj && obj[name];
    if (typeof orig !== "function") return;
    places.set(where, places.get(where) || false);
    obj[name] = function (...args) {
      for (const a of args) see(where, a);
      const r = orig.apply(this, args);
      if (result) see(where, r);
      return r;
    };
    undo.push(() => { obj[name] = orig; });
  };

  // Network: the page's fetch (request headers and the response body), XHR, Headers.
  const origFetch = window.fetch;
  places.set("page fetch()", false);
  window.fetch = function (input, init) {
    see("page fetch()", input instanceof Request ? [input.url, ...input.headers] : input);
    if (init && init.headers) see("page fetch()", new Headers(init.headers));
    return origFetch.apply(this, arguments).then((res) => {
      res.clone().text().then((t) => see("page fetch()", t), () => {});
      return res;
    });
  };
  undo.push(() => { window.fetch = origFetch; });
  wrap(XMLHttpRequest.prototype, "setRequestHeader", "XMLHttpRequest");
  wrap(XMLHttpRequest.prototype, "open", "XMLHttpRequest");
  for (const m of ["set", "append"]) wrap(Headers.prototype, m, "Headers.set/append (request headers)");
  // Codecs: every string the Go runtime hands to JS in this page passes TextDecoder.
  wrap(TextDecoder.prototype, "decode", "TextDecoder.decode", { result: true });
  wrap(JSON, "parse", "JSON.parse");
  // Messages: what the page posts, what it receives, and the library's channels.
  wrap(window, "postMessage", "postMessage");
  for (const C of [window.Worker, window.MessagePort, window.BroadcastChannel]) if (C) wrap(C.prototype, "postMessage", "postMessage");
  const onMessage = (e) => see("message events", e.data);
  places.set("message events", false);
  window.addEventListener("message", onMessage, true);
  undo.push(() => window.removeEventListener("message", onMessage, true));
  if (typeof BroadcastChannel === "function") {
    places.set("BroadcastChannel (library's channels)", false);
    for (const n of ["pkce-wasm:callback", `pkce-wasm:${config.issuer}|${config.clientId}`]) {
      const bc = new BroadcastChannel(n);
      bc.onmessage = (e) => see("BroadcastChannel (library's channels)", e.data);
      undo.push(() => bc.close());
    }
  }

  try {
    // Storage a script can read right away.
    const all = (st) => Array.from({ length: st.length }, (_, i) => `${st.key(i)}=${st.getItem(st.key(i))}`);
    see("localStorage", all(localStorage));
    see("sessionStorage", all(sessionStorage));
    see("document.cookie", document.cookie);
    places.set("IndexedDB", false);
    await readIndexedDB((where, v) => see("IndexedDB", v));
    see("URL and history", [location.href, history.state]);
    // Make the app call its API, and watch.
    const res = await auth.fetch("/api/me");
    see("API response", await res.text());
    await new Promise((r) => setTimeout(r, 300)); // late messages
  } finally {
    for (const u of undo.reverse()) u();
  }
  return places;
}

async function onSteal() {
  clearError();
  setBusy(true);
  els.stealResult.dataset.found = "";
  els.stealResult.textContent = "Looking…";
  try {
    const config = await fetch("/config.json", { cache: "no-store" }).then((r) => r.json());
    const places = await stealAttempt(config);
    const found = [...places].filter(([, hit]) => hit).map(([w]) => w);
    els.stealResult.dataset.found = found.length ? "yes" : "no";
    const head = document.createElement("p");
    head.className = "verdict";
    head.textContent = found.length
      ? `Found a token (a JWT) in: ${found.join(", ")}. A script in this page can take it.`
      : `Nothing found: no token in any of the ${places.size} places a page script can watch.`;
    const list = document.createElement("ul");
    for (const [where, hit] of places) {
      const li = document.createElement("li");
      li.dataset.found = hit ? "yes" : "no";
      li.textContent = `${hit ? "⚠ token seen" : "✓ nothing"} — ${where}`;
      list.appendChild(li);
    }
    els.stealResult.replaceChildren(head, list);
  } catch (err) {
    els.stealResult.dataset.found = "";
    els.stealResult.textContent = "The attempt failed.";
    showError(err);
  } finally {
    setBusy(false);
  }
}

const OPTIONS_KEY = "pkce-demo.options";

// demoOptions reads the extra client options from the query string (saving them for this tab) or
// from an earlier page of this tab. Only these names, with checked types, are passed on.
function demoOptions() {
  const q = new URLSearchParams(location.search);
  const out = {};
  if (q.has("autoRefresh")) out.autoRefresh = !["0", "false", "no", "off"].includes(q.get("autoRefresh"));
  if (q.has("dpop")) out.dpop = !["0", "false", "no", "off"].includes(q.get("dpop"));
  if (["worker", "page"].includes(q.get("isolation"))) out.isolation = q.get("isolation");
  for (const name of ["refreshMarginSeconds", "clockSkewSeconds"]) {
    if (q.has(name) && q.get(name) !== "" && Number.isFinite(Number(q.get(name)))) out[name] = Number(q.get(name));
  }
  try {
    if (Object.keys(out).length > 0) {
      sessionStorage.setItem(OPTIONS_KEY, JSON.stringify(out));
      return out;
    }
    const saved = JSON.parse(sessionStorage.getItem(OPTIONS_KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return out;
  }
}


// ---- silent sign-in on load ----

const SILENT_RETRY_MS = 5 * 60 * 1000;
const SIGNED_OUT_FRESH_MS = 2 * 60 * 1000; // how long "back from logout" is believed

function silentMarker() {
  try {
    const m = JSON.parse(flag("silent") || "null");
    return m && typeof m === "object" && typeof m.at === "number" ? m : null;
  } catch {
    return null;
  }
}

// silentAllowed: the demo's own choice (the library never signs in by itself): once per tab
// within SILENT_RETRY_MS, unless ?silent=0 turned it off for this tab.
function silentAllowed() {
  const q = new URLSearchParams(location.search).get("silent");
  if (q === "0") flag("noSilent", "1");
  if (q === "1") {
    flag("noSilent", null);
    flag("silent", null);
  }
  if (flag("noSilent") === "1") return false;
  const m = silentMarker();
  return !m || Date.now() - m.at > SILENT_RETRY_MS;
}

// trySilent leaves for the provider (prompt=none); resolves false when that could not start.
async function trySilent(why) {
  flag("silent", JSON.stringify({ at: Date.now(), pending: true, why }));
  notify("silent-pending", "Trying a silent sign-in at the provider…");
  try {
    await auth.signInSilently({ mode: "redirect", returnTo: location.pathname + location.search });
    return true;
  } catch (err) {
    flag("silent", JSON.stringify({ at: Date.now(), pending: false, why }));
    notify("silent-none", `A silent sign-in could not start (${errorCode(err)}).`);
    return false;
  }
}

async function main() {
  let leaving = false;
  try {
    const { PkceWasm } = await import("/pkce/pkce-wasm.js");

    const res = await fetch("/config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`GET /config.json: HTTP ${res.status}`);
    const config = await res.json();

    options = demoOptions();
    auth = await PkceWasm.create({ ...config, ...options });
    window.auth = auth;
    for (const event of ["tokenRefreshed", "tokenExpiring", "signedOut", "error"]) {
      auth.on(event, (detail) => {
        logEvent(event, detail);
        // Another tab signed in, refreshed or signed out, or the provider ended the session.
        if (event !== "error") render().catch(showError);
      });
    }

    els.login.addEventListener("click", onLogin);
    els.loginPopup.addEventListener("click", onLoginPopup);
    els.logout.addEventListener("click", onLogout);
    els.callApi.addEventListener("click", onCallApi);
    els.refreshNow.addEventListener("click", onRefreshNow);
    els.steal.addEventListener("click", onSteal);
    setInterval(renderCountdown, 1000);

    const hadSession = flag("hadSession") === "1";
    const marker = silentMarker();
    if (PkceWasm.isCallback(location.href) || location.pathname === "/callback") {
      let returnTo = "/";
      try {
        const result = await auth.handleCallback();
        if (result && typeof result.returnTo === "string" && /^\/(?![/\\])/.test(result.returnTo)) {
          returnTo = result.returnTo;
        }
        if (result && result.signedIn) flag("silent", null); // a sign-in: a later silent attempt is allowed again
        if (marker && marker.pending && !result.forwarded) {
          if (result.signedIn) {
            notify("silent-ok", marker.why === "reload"
              ? "Your session had ended with the last tab; signed in again silently (the provider still had your session)."
              : "Signed in silently: the provider still had your session.");
          } else {
            flag("silent", JSON.stringify({ at: marker.at, pending: false, why: marker.why }));
            flag("hadSession", null);
            notify("silent-none", marker.why === "reload"
              ? "Your session ended with the last tab, and there is no session at the provider: please sign in."
              : "Tried a silent sign-in: no session at the provider.");
          }
        }
      } catch (err) {
        if (marker && marker.pending) flag("silent", JSON.stringify({ at: marker.at, pending: false, why: marker.why }));
        showError(err);
      } finally {
        // Never leave code/state/error in the address bar or the history, success or failure.
        history.replaceState(null, "", returnTo);
      }
    } else if (Date.now() - Number(flag("signedOut") || 0) < SIGNED_OUT_FRESH_MS) {
      // Back from the provider's logout: no silent sign-in now, it would undo the logout.
      flag("signedOut", null);
      flag("hadSession", null);
      notify("signed-out", "Signed out — here, in every tab of this app, and at the provider.");
    } else if (await auth.isAuthenticated()) {
      notify(hadSession ? "session-kept" : "joined", hadSession
        ? "Still signed in after the reload: the shared worker kept the session (another tab, or the browser, kept it alive)."
        : "Signed in: this tab joined the session your other tabs share.");
    } else if (silentAllowed()) {
      // A switch of isolation mode (?isolation=…) starts a new client, not a reload of this one.
      const switched = new URLSearchParams(location.search).has("isolation");
      leaving = await trySilent(hadSession && !switched ? "reload" : "load");
    } else if (hadSession) {
      flag("hadSession", null);
      notify("session-ended", "Your session ended with the last tab (tokens live only in memory). Sign in again.");
    }
  } catch (err) {
    showError(err);
  }

  if (leaving) return; // on the way to the provider; the page that comes back renders
  try {
    await render();
  } catch (err) {
    showError(err);
  }
  document.body.dataset.ready = "true";
}

main();
