// Chromium-only harness on playwright-core, for the test files that observe the browser's own
// network events, intercept requests, fake the clock or use CDP (misbehave, package, gowasm, dpop,
// dpop-interop, isolation-cdp): what classic WebDriver cannot do, so they do not run in Firefox and
// WebKit. Everything browser-neutral (the dev
// server, URL helpers, authorizeAtOP) comes from harness.mjs and is re-exported here.
//
// - launchBrowser(): playwright-core driving the system Chromium (env CHROMIUM_PATH), headless.
// - newSession() / withSession(): a fresh browser context + page that records console output, page
//   errors, requests (with navigation flag) and token endpoint exchanges.
// - signIn() / attemptSignIn(): the login flow through the OP's login form, with the tokens as the
//   OP issued them (its record: the client's own requests leave from a worker, unseen here).

import assert from "node:assert/strict";
import { test as nodeTest } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH, selectedBrowsers } from "./browsers.mjs";
import { USERNAME, PASSWORD, bareURL, jwtPayload, latestTokens, redactURL, waitReady } from "./harness.mjs";

export * from "./harness.mjs";

const STEP_TIMEOUT_MS = 20_000;

/** These files run only when BROWSERS names chromium: pass as test()'s skip option. */
export const CHROMIUM_SKIP = selectedBrowsers().includes("chromium") ? false : "Chromium-only test file; BROWSERS does not name chromium";

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
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
  // Server-side records (grants, issued tokens, API requests, SSO sessions) count from here.
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

/** Waits for the next main-frame navigation request whose URL satisfies pred. Start before acting. */
export function waitForNavigationRequest(page, pred, timeout = STEP_TIMEOUT_MS) {
  return page.waitForRequest((r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && pred(new URL(r.url())), {
    timeout,
  });
}

/**
 * Signs in through the OP login form. Returns
 * { callbackURL, tokens: {access_token, refresh_token, id_token} (as the OP issued them), claims }.
 */
export async function signIn(session, server, path = "/") {
  const { page } = session;
  const attempt = await attemptSignIn(session, server, path);
  assert.ok(!attempt.errorCode, `sign-in ended with error ${attempt.errorText}`);
  await page.locator('#status[data-state="signed-in"]').waitFor();
  const stats = await server.stats();
  assert.equal(stats.grants?.authorization_code, 1, "expected exactly one authorization_code grant at the OP");
  const tokens = await latestTokens(server);
  assert.equal(typeof tokens.access_token, "string", "the OP issued an access_token");
  assert.equal(typeof tokens.id_token, "string", "the OP issued an id_token");
  return { callbackURL: attempt.callbackURL, tokens, claims: jwtPayload(tokens.id_token) };
}

/**
 * Runs the login flow through the OP's login form like signIn(), but does not require it to
 * succeed. Resolves after the app rendered the outcome to
 * { callbackURL, errorCode, errorText } (errorCode "" when no error is shown).
 */
export async function attemptSignIn(session, server, path = "/") {
  const { page } = session;
  // silent=0: the demo starts signed out, without its silent sign-in at the provider (demo/app.js).
  await page.goto(`${server.appOrigin}${path}${path.includes("?") ? "&" : "?"}silent=0`);
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
 * node:test's test() for these Chromium-only files: skipped when BROWSERS does not name chromium
 * (their before() hooks check CHROMIUM_SKIP). The name stays as is (misbehave uses it as the case).
 */
export function chromiumTest(name, opts, fn) {
  if (typeof opts === "function") [opts, fn] = [{}, opts];
  return nodeTest(name, { ...opts, skip: CHROMIUM_SKIP || opts.skip }, fn);
}
