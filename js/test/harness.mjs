// Shared harness for the pkce-wasm end-to-end tests (imported by *.test.mjs; it defines no tests).
//
// - startServer(): spawns the dev server binary (env PKCE_SERVER_BIN, default <repo>/bin/devserver,
//   built with `go build -o bin/devserver ./server`) from the repo root with
//   `-app-addr localhost:$E2E_APP_PORT -op-addr localhost:$E2E_OP_PORT -test-hooks`
//   (ports default to 18080 / 19090), waits until /config.json answers (30 s), keeps its
//   stdout/stderr for failure reports, and stops it on stop() or process exit.
// - launchBrowser(): playwright-core driving the system Chromium (env CHROMIUM_PATH, default
//   /usr/bin/chromium), headless.
// - newSession(): a fresh browser context + page that records console output, page errors,
//   requests (with navigation flag) and token endpoint exchanges.
// - signIn(): the full login flow through the OP's login form.
// - attemptSignIn(): the same flow without requiring success (returns the error the demo shows);
//   authorizeAtOP(): the OP side of an authorization request over plain HTTP (returns the callback
//   URL); server.misbehave(case) / server.misbehaveState(): the misbehaving OP (server/misbehave.go).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

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

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

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
     * The client runs in a worker whose requests the page's driver does not see: what the client
     * got is read from the OP's side.
     */
    issued: async () => (await getJSON(`${new URL(config.issuer).origin}/__test/issued`)).tokens,
    /** What reached the app's /api/* since the last reset: [{method, path, host, authorization, dpop}]. */
    apiRequests: async () => (await getJSON(`${APP_ORIGIN}/__test/requests`)).requests,
    resetAPIRequests: async () => {
      const res = await fetch(`${APP_ORIGIN}/__test/requests/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`POST /__test/requests/reset: HTTP ${res.status}`);
    },
    stop,
  };
}

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
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

/**
 * A fresh browser context and page that record what the tests assert on:
 * console (all messages and page errors), requests (url, method, navigation flag, Request),
 * token endpoint exchanges (request form + parsed JSON response).
 */
/**
 * Runs fn(session) in a fresh browser context and closes it afterwards. On failure it prints the
 * session's diagnostics (navigations, console) and the server log of this test, then rethrows.
 * clock: install Playwright's fake clock (time flows normally until fast-forwarded).
 */
export async function withSession(t, server, browser, fn, { clock = false } = {}) {
  const mark = server.mark();
  // Server-side records (grants, issued tokens, API requests) count from here.
  await server.reset();
  await server.resetAPIRequests();
  const s = await newSession(browser, server);
  if (clock) await s.context.clock.install();
  try {
    await fn(s);
  } catch (err) {
    console.error(
      [
        `\n===== ${t.name} failed =====`,
        s.diagnostics(),
        "--- server log (this test) ---",
        server.logSince(mark) || "(empty)",
        "===== end =====\n",
      ].join("\n"),
    );
    throw err;
  } finally {
    await s.context.close().catch(() => {});
  }
}

export async function newSession(browser, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);

  const consoleLines = [];
  const requests = [];
  const tokenExchanges = [];
  const tokenEndpoint = server.discovery.token_endpoint;

  page.on("console", (m) => consoleLines.push(`[console.${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`[pageerror] ${e.stack || e.message}`));
  page.on("crash", () => consoleLines.push("[page crashed]"));
  page.on("request", (r) => {
    requests.push({
      url: r.url(),
      method: r.method(),
      navigation: r.isNavigationRequest() && r.frame() === page.mainFrame(),
      request: r,
    });
  });
  page.on("requestfailed", (r) =>
    consoleLines.push(`[requestfailed] ${r.method()} ${redactURL(r.url())}: ${r.failure()?.errorText}`),
  );
  page.on("response", (res) => {
    const req = res.request();
    if (req.method() !== "POST" || bareURL(res.url()) !== tokenEndpoint) return;
    tokenExchanges.push({
      form: new URLSearchParams(req.postData() || ""),
      status: res.status(),
      body: res.json().catch((err) => ({ __unreadable: String(err) })),
    });
  });

  return {
    context,
    page,
    consoleLines,
    requests,
    tokenExchanges,
    /** Main-frame navigation requests (redirect hops included), in order. */
    navigations: () => requests.filter((r) => r.navigation).map((r) => r.url),
    /** Human-readable diagnostics for a failure report. */
    diagnostics: () =>
      [
        `page url: ${redactURL(page.isClosed() ? "(closed)" : page.url())}`,
        "--- navigations ---",
        ...requests.filter((r) => r.navigation).map((r) => `${r.method} ${redactURL(r.url)}`),
        "--- page console ---",
        ...consoleLines,
      ].join("\n"),
  };
}

/** Waits until the demo finished its initial rendering (callback handling included). */
export async function waitReady(page) {
  await page.locator('body[data-ready="true"]').waitFor({ state: "attached" });
}

/** Waits for the next main-frame navigation request whose URL satisfies pred. Start before acting. */
export function waitForNavigationRequest(page, pred, timeout = STEP_TIMEOUT_MS) {
  return page.waitForRequest((r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && pred(new URL(r.url())), {
    timeout,
  });
}

/** Decodes a JWT payload without verifying it (the server verifies; the test only reads claims). */
export function jwtPayload(jwt) {
  const parts = String(jwt).split(".");
  assert.equal(parts.length, 3, "not a compact JWS");
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

/**
 * Signs in through the OP login form. Returns
 * { callbackURL, tokens: {access_token, refresh_token, id_token} (as the OP issued them), claims }.
 */
export async function signIn(session, server) {
  const { page } = session;
  const attempt = await attemptSignIn(session, server);
  assert.ok(!attempt.errorCode, `sign-in ended with error ${attempt.errorText}`);
  await page.locator('#status[data-state="signed-in"]').waitFor();

  const stats = await server.stats();
  assert.equal(stats.grants?.authorization_code, 1, "expected exactly one authorization_code grant at the OP");
  const tokens = await latestTokens(server);
  assert.equal(typeof tokens.access_token, "string", "the OP issued an access_token");
  assert.equal(typeof tokens.id_token, "string", "the OP issued an id_token");
  return { callbackURL: attempt.callbackURL, tokens, claims: jwtPayload(tokens.id_token) };
}

/** The newest token of each kind the OP issued: {access_token, refresh_token, id_token}. */
export async function latestTokens(server) {
  const out = {};
  for (const t of await server.issued()) out[t.kind] = t.value;
  return out;
}

/**
 * Runs the login flow through the OP's login form like signIn(), but does not require it to
 * succeed. Resolves after the app rendered the outcome to
 * { callbackURL, errorCode, errorText } (errorCode "" when no error is shown).
 */
export async function attemptSignIn(session, server, path = "/") {
  const { page } = session;
  await page.goto(`${server.appOrigin}${path}`);
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();

  const issuerOrigin = new URL(server.config.issuer).origin;
  await page.click("#login");
  await page.waitForURL((u) => u.origin === issuerOrigin);
  await page.locator("#username").waitFor();

  const backOnApp = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin);
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await page.click("#sign-in");
  const callbackReq = await backOnApp;
  await waitReady(page);
  const error = page.locator("#error");
  return {
    callbackURL: callbackReq.url(),
    errorCode: (await error.getAttribute("data-code")) || "",
    errorText: (await error.textContent()) || "",
  };
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
