// Shared harness for the pkce-wasm end-to-end tests (imported by *.test.mjs; it defines no tests).
// Browser-neutral: it drives the browsers through browsers.mjs (a subset of playwright's API over
// puppeteer-core and W3C WebDriver) and observes through the page and the dev server's records only.
//
// - startServer(): spawns the dev server binary (env PKCE_SERVER_BIN, default <repo>/bin/devserver,
//   built with `go build -o bin/devserver ./server`) from the repo root with
//   `-app-addr localhost:$E2E_APP_PORT -op-addr localhost:$E2E_OP_PORT -test-hooks`
//   (ports default to 18080 / 19090), waits until /config.json answers (30 s), keeps its
//   stdout/stderr for failure reports, and stops it on stop() or process exit.
// - forEachBrowser((name, browser) => ...): registers the tests once per browser of BROWSERS (comma
//   list of chromium, firefox, webkit; default all three) in a suite named after the browser, which
//   launches it first and closes it last; browser() returns it inside a test.
// - withSession(): a fresh browser context + page per test; on failure the tabs' URLs and the
//   server log of this test are printed.
// - signIn() / attemptSignIn(): the login flow through the OP's login form (or, with
//   {callbackURL: true}, with the login form posted from Node, so that the test learns the callback
//   URL the OP redirects to); waitReady(), reloadAndWait(), navigateAndWait().
// - authorizeAtOP(): the OP side of an authorization request over plain HTTP (returns the callback
//   URL); server.misbehave(case) / server.misbehaveState(): the misbehaving OP (server/misbehave.go).
// - server.inject(script) / server.injectSeen(): the injected-script hook (server/inject.go): the
//   script first in every HTML page of the app until the next reset, and what it reported.
// - accessTokenHash(page, server): the SHA-256 of the access token auth.fetch sends, from the
//   server's record (/__test/flaky), and assertNoTokens(): token containment without ever seeing
//   a token in the test (JWT-shaped strings, and strings hashing to a known token hash).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, before, after } from "node:test";
import { launchBrowser, selectedBrowsers } from "./browsers.mjs";

export { CHROMIUM_ARGS, CHROMIUM_PATH, launchBrowser, selectedBrowsers } from "./browsers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const JS_DIR = path.resolve(here, "..");
export const REPO_ROOT = path.resolve(JS_DIR, "..");

export const APP_PORT = Number(process.env.E2E_APP_PORT || 18080);
export const OP_PORT = Number(process.env.E2E_OP_PORT || 19090);
export const APP_ORIGIN = `http://localhost:${APP_PORT}`;
/** The app served under a different origin (same server): not in resourceOrigins. */
export const OTHER_ORIGIN = `http://127.0.0.1:${APP_PORT}`;

export const USERNAME = "test-user@localhost";
export const PASSWORD = "verysecure";

const START_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 20_000;

function serverBinary() {
  const p = process.env.PKCE_SERVER_BIN || "../bin/devserver";
  return path.isAbsolute(p) ? p : path.resolve(JS_DIR, p);
}

async function getJSON(url, { timeoutMs = 5_000 } = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), cache: "no-store" });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Starts the dev server and waits for it. Resolves to a handle:
 * { appOrigin, config, discovery, log(), mark(), logSince(mark), stats(), reset(), stop() }.
 * Options (all optional): appPort / opPort (default E2E_APP_PORT / E2E_OP_PORT), extraArgs (more
 * flags, e.g. ["-access-token-ttl", "6s"]), so that a test file can run its own server.
 */
export async function startServer({ appPort = APP_PORT, opPort = OP_PORT, extraArgs = [] } = {}) {
  const APP_ORIGIN = `http://localhost:${appPort}`; // this server's app origin (shadows the default)
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(
      `dev server binary not found at ${bin}: build it with \`go build -o bin/devserver ./server\` ` +
        `in ${REPO_ROOT}, or set PKCE_SERVER_BIN`,
    );
  }
  // Refuse to test against whatever else already listens on the port.
  const stale = await fetch(`${APP_ORIGIN}/config.json`, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  );
  if (stale) {
    throw new Error(`something already answers on ${APP_ORIGIN}; stop it or set E2E_APP_PORT/E2E_OP_PORT`);
  }

  const args = ["-app-addr", `localhost:${appPort}`, "-op-addr", `localhost:${opPort}`, "-test-hooks", ...extraArgs];
  const lines = [];
  const child = spawn(bin, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const collect = (name) => {
    let partial = "";
    return (chunk) => {
      partial += chunk.toString("utf8");
      const parts = partial.split("\n");
      partial = parts.pop();
      for (const l of parts) lines.push(`[server ${name}] ${l}`);
    };
  };
  child.stdout.on("data", collect("out"));
  child.stderr.on("data", collect("err"));

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on("error", (err) => {
      exited = { error: err };
      lines.push(`[server] spawn error: ${err.message}`);
      resolve(exited);
    });
  });
  const killOnExit = () => {
    if (!exited) child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  const log = () => lines.join("\n");
  const stop = async () => {
    process.off("exit", killOnExit);
    if (exited) return;
    child.kill("SIGTERM");
    const t = sleep(5_000).then(() => "timeout");
    if ((await Promise.race([exitPromise, t])) === "timeout") {
      child.kill("SIGKILL");
      await exitPromise;
    }
  };

  // Wait for /config.json.
  const deadline = Date.now() + START_TIMEOUT_MS;
  let config = null;
  let lastErr = null;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      config = await getJSON(`${APP_ORIGIN}/config.json`, { timeoutMs: 2_000 });
      break;
    } catch (err) {
      lastErr = err;
      await sleep(200);
    }
  }
  if (!config) {
    await stop();
    const why = exited ? `exited (${JSON.stringify(exited)})` : `did not answer within ${START_TIMEOUT_MS} ms`;
    throw new Error(
      `dev server ${bin} ${args.join(" ")} ${why}; last error: ${lastErr && lastErr.message}\n--- server log ---\n${log()}`,
    );
  }

  let discovery;
  try {
    discovery = await getJSON(`${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  } catch (err) {
    await stop();
    throw new Error(`OP discovery failed: ${err.message}\n--- server log ---\n${log()}`);
  }

  return {
    appOrigin: APP_ORIGIN,
    config,
    discovery,
    log,
    mark: () => lines.length,
    logSince: (m) => lines.slice(m).join("\n"),
    stats: () => getJSON(`${APP_ORIGIN}/__test/stats`),
    reset: async () => {
      const res = await fetch(`${APP_ORIGIN}/__test/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`POST /__test/reset: HTTP ${res.status}`);
    },
    /**
     * Makes the OP misbehave: POST /__test/misbehave {"case": caseName} ("" = behave). Resolves to
     * the server's state {case, applied, keysRequests, cases}; POST /__test/reset also ends a case.
     */
    misbehave: async (caseName) => {
      const res = await fetch(`${APP_ORIGIN}/__test/misbehave`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ case: caseName }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new Error(`POST /__test/misbehave ${JSON.stringify(caseName)}: HTTP ${res.status}: ${await res.text()}`);
      return res.json();
    },
    /** GET /__test/misbehave: {case, applied (responses corrupted), keysRequests (since reset), cases}. */
    misbehaveState: () => getJSON(`${APP_ORIGIN}/__test/misbehave`),
    /**
     * Every token the OP issued since the last reset, in order: [{kind, value, at}] (server/issued.go).
     * The client runs in a worker whose requests no page-level driver sees: what it got is read
     * from the OP's side.
     */
    issued: async () => (await getJSON(`${new URL(config.issuer).origin}/__test/issued`)).tokens,
    /** What reached the app's /api/* since the last reset: [{method, path, host, authorization, dpop}]. */
    apiRequests: async () => (await getJSON(`${APP_ORIGIN}/__test/requests`)).requests,
    /**
     * Arms the injected-script hook (server/inject.go): from now until the next reset every HTML
     * page of the app starts with script, before the app's own code.
     */
    inject: async (script) => {
      const res = await fetch(`${APP_ORIGIN}/__test/inject`, { method: "POST", headers: { "Content-Type": "text/javascript" }, body: script });
      if (!res.ok) throw new Error(`POST /__test/inject: HTTP ${res.status}`);
    },
    /** What the injected script reported since the last reset: {armed, lines, pages: {pageId: n}, truncated}. */
    injectSeen: () => getJSON(`${APP_ORIGIN}/__test/inject/seen`, { timeoutMs: 30_000 }),
    resetAPIRequests: async () => {
      const res = await fetch(`${APP_ORIGIN}/__test/requests/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`POST /__test/requests/reset: HTTP ${res.status}`);
    },
    stop,
  };
}

/** URL without query and fragment. */
export function bareURL(u) {
  const x = new URL(u);
  return `${x.origin}${x.pathname}`;
}

/** Redacts authorization codes, states and tokens from a URL before it is printed. */
export function redactURL(u) {
  return String(u).replace(
    /([?&#](?:code|state|id_token_hint|access_token|refresh_token|id_token|nonce|code_challenge)=)[^&#]*/g,
    "$1<redacted>",
  );
}

/** Decodes a JWT payload without verifying it (the server verifies; the test only reads claims). */
export function jwtPayload(jwt) {
  const parts = String(jwt).split(".");
  assert.equal(parts.length, 3, "not a compact JWS");
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

/**
 * Completes an authorization request at the OP without a browser: GET authURL, sign in through
 * the login form with plain HTTP, follow the OP's redirects and return the URL it finally
 * redirects to outside the OP (the client's redirect URI with the authorization response).
 */
export async function authorizeAtOP(authURL, { username = USERNAME, password = PASSWORD } = {}) {
  const opOrigin = new URL(authURL).origin;
  const step = (url, init = {}) => fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  let res = await step(authURL);
  let loc = res.headers.get("location");
  if (res.status < 300 || res.status > 399 || !loc) throw new Error(`authorization request: HTTP ${res.status}, no redirect to the login page`);
  const loginURL = new URL(loc, authURL);
  const id = loginURL.searchParams.get("authRequestID");
  if (!id) throw new Error(`authorization request redirected to ${bareURL(loginURL.href)}, not the login page`);
  const form = new URLSearchParams({ id, username, password, action: "sign-in" });
  res = await step(new URL("/login", loginURL).href, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  for (let hops = 0; hops < 5; hops++) {
    loc = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || !loc) throw new Error(`sign-in at the OP: HTTP ${res.status} without a redirect`);
    const next = new URL(loc, res.url || authURL);
    if (next.origin !== opOrigin) return next.href;
    res = await step(next.href);
  }
  throw new Error("too many redirects at the OP");
}

/** Registers fn's tests once per selected browser, in a suite that launches and closes it. */
export function forEachBrowser(fn) {
  for (const name of selectedBrowsers()) {
    describe(name, () => {
      let browser = null;
      before(async () => {
        browser = await launchBrowser(name);
      });
      after(async () => {
        await browser?.close().catch(() => {});
      });
      fn(name, () => browser);
    });
  }
}

/** Waits until the demo finished its initial rendering (callback handling included). */
export async function waitReady(page, { timeout = STEP_TIMEOUT_MS } = {}) {
  await page.waitForSelector('body[data-ready="true"]', { state: "attached", timeout });
}

/**
 * Runs action (which makes the page navigate, possibly through other origins) and waits until an
 * app page finished its rendering: the current page is marked stale first, so that only a newly
 * loaded app page satisfies waitReady.
 */
export async function navigateAndWait(page, action, opts) {
  await page.evaluate(() => {
    if (document.body) document.body.dataset.ready = "stale";
  });
  await action();
  await waitReady(page, opts);
}

export async function reloadAndWait(page) {
  await page.reload();
  await waitReady(page);
}

/** The URLs of a context's open tabs, for failure reports (codes, states and tokens redacted). */
export async function describePages(context) {
  const out = [];
  for (const [i, p] of (await context.pages().catch(() => [])).entries()) {
    const u = await Promise.resolve(p.url()).catch((e) => `(${e.message})`);
    out.push(`tab ${i}: ${redactURL(u)}`);
  }
  return out.join("\n");
}

/**
 * Runs fn(session) in a fresh browser context ({context, page, browserName}) and closes it
 * afterwards. On failure it prints the tabs' URLs and the server log of this test, then rethrows.
 */
export async function withSession(t, server, browser, fn) {
  const mark = server.mark();
  // Server-side records (grants, issued tokens, API requests, SSO sessions) count from here.
  await server.reset();
  await server.resetAPIRequests();
  const context = await browser.newContext();
  const page = await context.newPage();
  const s = { context, page, browserName: browser.name };
  try {
    await fn(s);
  } catch (err) {
    console.error(
      [
        `\n===== ${t.fullName || t.name} failed =====`,
        await describePages(context),
        "--- server log (this test) ---",
        server.logSince(mark) || "(empty)",
        "===== end =====\n",
      ].join("\n"),
    );
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

/** The ID token claims the demo shows in #claims. */
export async function shownClaims(page) {
  return JSON.parse(await page.textContent("#claims"));
}

/**
 * Signs in through the OP login form and checks the outcome: no error, signed in, one
 * authorization_code grant at the OP. Returns { callbackURL (with {callbackURL: true}), claims }.
 */
export async function signIn(session, server, opts = {}) {
  const { page } = session;
  const before = await server.stats();
  const attempt = await attemptSignIn(session, server, opts);
  assert.ok(!attempt.errorCode, `sign-in ended with error ${attempt.errorText}`);
  await page.waitForSelector('#status[data-state="signed-in"]');
  const after = await server.stats();
  assert.equal(after.grants.authorization_code - before.grants.authorization_code, 1, "exactly one authorization_code grant at the OP");
  return { callbackURL: attempt.callbackURL, claims: await shownClaims(page) };
}

/**
 * Runs the login flow like signIn(), but does not require it to succeed. Resolves after the app
 * rendered the outcome to { callbackURL, errorCode, errorText } (errorCode "" when no error is
 * shown). The browser fills in the OP's login form, unless callbackURL: true, when Node posts it
 * (authorizeAtOP on the browser's authorization request) and the browser opens the callback URL
 * the OP answered: the only way to learn that URL without network events.
 */
export async function attemptSignIn(session, server, { query = "", callbackURL: wantCallback = false } = {}) {
  const { page } = session;
  await page.goto(`${server.appOrigin}/${noSilent(query)}`);
  await waitReady(page);
  await page.waitForSelector('#status[data-state="signed-out"]');

  const issuerOrigin = new URL(server.config.issuer).origin;
  await page.click("#login");
  await page.waitForURL((u) => u.origin === issuerOrigin);
  await page.waitForSelector("#username");

  let callbackURL = null;
  if (wantCallback) {
    const loginURL = new URL(await page.url());
    callbackURL = await loginAtOP(loginURL);
    await page.goto(callbackURL);
    await waitReady(page);
  } else {
    await page.fill("#username", USERNAME);
    await page.fill("#password", PASSWORD);
    await navigateAndWait(page, () => page.click("#sign-in"));
  }
  return {
    callbackURL,
    errorCode: (await page.getAttribute("#error", "data-code")) || "",
    errorText: (await page.textContent("#error")) || "",
  };
}

/**
 * query (e.g. "" or "?autoRefresh=0") with silent=0: the demo then starts this tab signed out
 * instead of trying a silent sign-in at the provider first (demo/app.js; demo.test.mjs tests that).
 */
export function noSilent(query = "") {
  return `${query}${query.includes("?") ? "&" : "?"}silent=0`;
}

/** Signs in at the OP's login page loginURL (…/login?authRequestID=…) over plain HTTP; returns the callback URL. */
async function loginAtOP(loginURL, { username = USERNAME, password = PASSWORD } = {}) {
  const opOrigin = loginURL.origin;
  const id = loginURL.searchParams.get("authRequestID");
  if (!id) throw new Error(`not the OP's login page: ${bareURL(loginURL.href)}`);
  const step = (url, init = {}) => fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  let res = await step(new URL("/login", loginURL).href, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ id, username, password, action: "sign-in" }).toString(),
  });
  let at = loginURL.href;
  for (let hops = 0; hops < 5; hops++) {
    const loc = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || !loc) throw new Error(`sign-in at the OP: HTTP ${res.status} without a redirect`);
    const next = new URL(loc, at);
    if (next.origin !== opOrigin) return next.href;
    at = next.href;
    res = await step(next.href);
  }
  throw new Error("too many redirects at the OP");
}

export const sha256 = (s) => createHash("sha256").update(s).digest("hex");

/** The newest token of each kind the OP issued: {access_token, refresh_token, id_token}. */
export async function latestTokens(server) {
  const out = {};
  for (const t of await server.issued()) out[t.kind] = t.value;
  return out;
}

/**
 * The hex SHA-256 of the access token window.auth.fetch sends now, as /api/flaky recorded it
 * ("" when it sent none). The test never sees the token itself.
 */
export async function accessTokenHash(page, server) {
  const id = `hash-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  await page.evaluate((u) => window.auth.fetch(u).then((r) => r.status), `/api/flaky?id=${id}&fail=0`);
  const res = await fetch(`${server.appOrigin}/__test/flaky?id=${id}`, { signal: AbortSignal.timeout(5_000) });
  const seen = (await res.json()).requests;
  assert.equal(seen.length, 1, "one /api/flaky request");
  return seen[0].token;
}

const JWT_RE = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}/;
const TOKENISH_RE = /[A-Za-z0-9._~+\/=-]{16,}/g;

/**
 * Token containment without knowing the tokens: fails when text holds a JWT-shaped string (ID and
 * access tokens are JWTs here) or a token-like string whose SHA-256 is one of tokenHashes.
 */
export function assertNoTokens(where, text, tokenHashes = []) {
  const s = String(text);
  const jwt = s.match(JWT_RE);
  assert.ok(!jwt, `a JWT (${jwt && jwt[0].slice(0, 12)}…) found in ${where}`);
  const hashes = new Set(tokenHashes.filter(Boolean));
  if (hashes.size === 0) return;
  for (const m of s.matchAll(TOKENISH_RE)) {
    // The token may sit in a longer run (e.g. "access_token=…"): try each split at a separator.
    const run = m[0];
    const cands = new Set([run, ...run.split(/[=+\/]/)]);
    for (const c of cands) assert.ok(!hashes.has(sha256(c)), `a token (by its hash) found in ${where}`);
  }
}

/**
 * What the page of the app origin keeps and shows, for containment checks: Web Storage, IndexedDB
 * database names, document.cookie, history.state, the URL and the DOM.
 */
/**
 * What a script in page can read: web storage, IndexedDB (names, and the rows of pkce-wasm's
 * stores), cookies, history.state, the URL and the DOM. assertDumpClean checks it.
 */
export function pageDump(page) {
  return page.evaluate(async () => {
    const all = (st) => Object.fromEntries(Array.from({ length: st.length }, (_, i) => st.key(i)).map((k) => [k, st.getItem(k)]));
    return {
      local: JSON.stringify(all(localStorage)),
      session: JSON.stringify(all(sessionStorage)),
      sessionKeys: Object.keys(all(sessionStorage)),
      dbs: indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [],
      // The worker's store of login transactions (and DPoP keys): its rows, as a page script reads them.
      idb: await new Promise((resolve) => {
        const r = indexedDB.open("pkce-wasm");
        r.onerror = () => resolve({});
        r.onsuccess = async () => {
          const db = r.result, out = {};
          for (const store of db.objectStoreNames) {
            out[store] = await new Promise((res) => {
              const g = db.transaction(store).objectStore(store).getAll();
              g.onsuccess = () => res(g.result);
              g.onerror = () => res([]);
            });
          }
          db.close();
          resolve(out);
        };
      }),
      cookie: document.cookie,
      historyState: JSON.stringify(history.state),
      url: location.href,
      dom: document.documentElement.outerHTML,
    };
  });
}

/**
 * Fails when a page dump (pageDump) holds a token or a leftover login transaction: only the
 * worker's own IndexedDB database may exist, and its transaction store is empty once the callback
 * is done (transactions are single-use).
 */
export function assertDumpClean(dump, check) {
  assert.ok(dump.dbs.every((n) => n === "pkce-wasm"), `unexpected IndexedDB databases: ${dump.dbs}`);
  assert.deepEqual(dump.idb.transactions || [], [], "a login transaction is left in IndexedDB");
  check("IndexedDB", JSON.stringify(dump.idb));
}

/**
 * A containment check for text a page script can read: no JWT-shaped string or access-token hash
 * (assertNoTokens), and none of the tokens the OP issued (its record), refresh tokens included.
 */
export async function tokenCheck(server, hashes = []) {
  const issued = (await server.issued()).map((t) => t);
  return (where, text) => {
    assertNoTokens(where, text, hashes);
    for (const t of issued) assert.ok(!String(text).includes(t.value), `an issued ${t.kind} found in ${where}`);
  };
}
