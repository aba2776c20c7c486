// Token-lifecycle end-to-end tests: single-flight refresh, proactive refresh across tabs (Web Locks +
// BroadcastChannel), reused refresh tokens, 401/403 handling of auth.fetch, reload and silent
// sign-in, popup login, and token containment throughout.
//
// This file runs its own two dev servers (so the tokens' lifetime can differ from e2e.test.mjs):
//   short: -access-token-ttl 6s (env LIFECYCLE_SHORT_TTL), ports 18180/19190 — expiry and refresh
//   long:  the default 5 min TTL,                         ports 18280/19290 — everything else
// (env LIFECYCLE_SHORT_APP_PORT/_OP_PORT, LIFECYCLE_LONG_APP_PORT/_OP_PORT).
//
// Extra client options reach the demo's window.auth through its query string (demo/app.js), e.g.
// /?autoRefresh=0. Each test gets a fresh browser context whose every page, popup and frame is
// recorded: console, requests, token endpoint responses. After each test the token strings of every
// token response seen (and of the ones the test itself obtained) must appear nowhere: Web Storage,
// IndexedDB, cookies, any request or page URL, the DOM, console output.
//
// Server side, /__test/stats counts OP requests and token grants; /api/flaky, /api/forbidden and
// /__test/flaky are server/lifecycle_hooks.go.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  PASSWORD,
  USERNAME,
  bareURL,
  jwtPayload,
  launchBrowser,
  redactURL,
  startServer,
  waitForNavigationRequest,
  waitReady,
} from "./playwright-harness.mjs";

const TEST_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 20_000;
const SHORT_TTL = process.env.LIFECYCLE_SHORT_TTL || "6s";
const env = (name, def) => Number(process.env[name] || def);

let short; // dev server with short-lived access tokens
let long; // dev server with the default TTL
let browser;

before(async () => {
  [short, long] = await Promise.all([
    startServer({
      appPort: env("LIFECYCLE_SHORT_APP_PORT", 18180),
      opPort: env("LIFECYCLE_SHORT_OP_PORT", 19190),
      extraArgs: ["-access-token-ttl", SHORT_TTL],
    }),
    startServer({ appPort: env("LIFECYCLE_LONG_APP_PORT", 18280), opPort: env("LIFECYCLE_LONG_OP_PORT", 19290) }),
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all([short?.stop(), long?.stop()]);
});

// ---------------------------------------------------------------------------------------------
// Recording and containment

/** Records the lifecycle events of every window.auth the demo creates, from its first moment. */
function recordEventsInitScript() {
  const events = [];
  Object.defineProperty(window, "__lifecycleEvents", { value: events });
  let client;
  Object.defineProperty(window, "auth", {
    configurable: true,
    get: () => client,
    set(v) {
      client = v;
      for (const name of ["tokenRefreshed", "tokenExpiring", "signedOut", "error"]) {
        v.on(name, (detail) => events.push({ name, detail, at: Date.now() }));
      }
    },
  });
}

/** A fresh context recording console, requests and token responses of all its pages and frames. */
async function newRecorder(server) {
  const context = await browser.newContext();
  await context.addInitScript(recordEventsInitScript);
  const consoleLines = [];
  const requests = [];
  const tokenExchanges = [];
  const ownTokenResponses = []; // token responses the test obtained itself (from Node)
  const tokenEndpoint = server.discovery.token_endpoint;
  const pageOf = (r) => {
    try {
      return r.frame().page();
    } catch {
      return null; // e.g. a service worker request
    }
  };

  context.on("page", (p) => {
    p.setDefaultTimeout(STEP_TIMEOUT_MS);
    p.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    p.on("crash", () => consoleLines.push("[page crashed]"));
  });
  context.on("console", (m) => consoleLines.push(`[console.${m.type()}] ${m.text()}`));
  context.on("weberror", (e) => consoleLines.push(`[pageerror] ${e.error()?.stack || e.error()}`));
  context.on("request", (r) => {
    let mainFrame = false;
    try {
      mainFrame = r.frame().parentFrame() === null;
    } catch {}
    requests.push({ url: r.url(), method: r.method(), navigation: r.isNavigationRequest() && mainFrame, page: pageOf(r), request: r });
  });
  context.on("requestfailed", (r) =>
    consoleLines.push(`[requestfailed] ${r.method()} ${redactURL(r.url())}: ${r.failure()?.errorText}`),
  );
  context.on("response", (res) => {
    const req = res.request();
    if (req.method() !== "POST" || bareURL(res.url()) !== tokenEndpoint) return;
    tokenExchanges.push({
      form: new URLSearchParams(req.postData() || ""),
      status: res.status(),
      body: res.json().catch((err) => ({ __unreadable: String(err) })),
      page: pageOf(req),
      at: Date.now(),
    });
  });

  const page = await context.newPage();
  const grants = (type) => tokenExchanges.filter((e) => e.form.get("grant_type") === type);
  return {
    server,
    context,
    page,
    consoleLines,
    requests,
    tokenExchanges,
    ownTokenResponses,
    grants,
    diagnostics: () =>
      [
        ...context.pages().map((p, i) => `tab ${i}: ${p.isClosed() ? "(closed)" : redactURL(p.url())}`),
        "--- navigations (all tabs, codes/states redacted) ---",
        ...requests.filter((r) => r.navigation).map((r) => `${r.method} ${redactURL(r.url)}`),
        "--- token endpoint requests ---",
        ...tokenExchanges.map((e) => `${e.form.get("grant_type")} -> HTTP ${e.status}`),
        "--- console (all tabs) ---",
        ...consoleLines,
      ].join("\n"),
  };
}

function tokenSecrets(responses) {
  const secrets = {};
  responses.forEach((r, i) => {
    for (const k of ["access_token", "refresh_token", "id_token"]) {
      const v = r && r[k];
      if (typeof v !== "string" || v.length < 8) continue;
      secrets[`${k} #${i}`] = v;
      const parts = v.split(".");
      // A JWT's signature segment alone identifies the token as well.
      if (parts.length === 3 && parts[2].length >= 16) secrets[`${k} #${i} (signature)`] = parts[2];
    }
  });
  return secrets;
}

/** Fails when text contains a secret; the message names the secret, never prints it. */
function assertNoSecrets(where, text, secrets) {
  const s = String(text);
  for (const [name, value] of Object.entries(secrets)) assert.ok(!s.includes(value), `${name} found in ${where}`);
}

/**
 * Token containment (README "What it checks"): no token string in Web Storage, IndexedDB, cookies,
 * any URL a page, popup or frame requested or shows, history.state, the DOM, or console output.
 */
async function assertContained(rec) {
  const responses = await Promise.all(rec.tokenExchanges.map((e) => e.body));
  const secrets = tokenSecrets([...responses, ...rec.ownTokenResponses]);
  assert.ok(Object.keys(secrets).length > 0, "containment check without any token to look for");

  rec.requests.forEach((r, i) => assertNoSecrets(`the URL of request #${i} (${r.method} ${bareURL(r.url)})`, r.url, secrets));
  assertNoSecrets("console output", rec.consoleLines.join("\n"), secrets);
  for (const p of rec.context.pages()) {
    if (p.isClosed()) continue;
    for (const f of p.frames()) assertNoSecrets(`frame URL ${bareURL(f.url() === "about:blank" ? "about:blank" : f.url())}`, f.url(), secrets);
    if (!p.url().startsWith(rec.server.appOrigin)) continue;
    const dump = await p.evaluate(async () => {
      const all = (st) => Object.fromEntries(Array.from({ length: st.length }, (_, i) => st.key(i)).map((k) => [k, st.getItem(k)]));
      return {
        local: JSON.stringify(all(localStorage)),
        session: JSON.stringify(all(sessionStorage)),
        sessionKeys: Object.keys(all(sessionStorage)),
        dbs: (await indexedDB.databases()).map((d) => d.name),
        cookie: document.cookie,
        historyState: JSON.stringify(history.state),
        dom: document.documentElement.outerHTML,
      };
    });
    assertNoSecrets("localStorage", dump.local, secrets);
    assertNoSecrets("sessionStorage", dump.session, secrets);
    assertNoSecrets("document.cookie", dump.cookie, secrets);
    assertNoSecrets("history.state", dump.historyState, secrets);
    assertNoSecrets("the DOM", dump.dom, secrets);
    assert.deepEqual(dump.dbs, [], "no IndexedDB database is created");
    for (const k of dump.sessionKeys) assert.ok(!k.startsWith("pkce-wasm.tx."), `a login transaction was left in sessionStorage: ${k}`);
  }
  // Cookies (HttpOnly too), localStorage and IndexedDB contents of every origin the context saw.
  assertNoSecrets("storageState", JSON.stringify(await rec.context.storageState({ indexedDB: true })), secrets);
  assertNoSecrets("cookies", JSON.stringify(await rec.context.cookies()), secrets);
}

/** Runs fn with a fresh recorded context on server; containment is checked after it passes. */
function lifecycle(name, server, fn) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const srv = server();
    const mark = srv.mark();
    const rec = await newRecorder(srv);
    try {
      await fn(rec, srv, t);
      await assertContained(rec);
    } catch (err) {
      // Containment is checked even so, and reported (it must hold whatever else went wrong).
      const contained = await assertContained(rec).then(
        () => "token containment: held",
        (e) => `token containment: ALSO FAILED: ${e.message}`,
      );
      t.diagnostic(contained);
      console.error(
        [
          `\n===== ${t.name} failed (${contained}) =====`,
          rec.diagnostics(),
          "--- server log (this test) ---",
          srv.logSince(mark) || "(empty)",
          "===== end =====\n",
        ].join("\n"),
      );
      throw err;
    } finally {
      await rec.context.close().catch(() => {});
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

const sha256 = (s) => createHash("sha256").update(s).digest("hex");
const refreshGrants = (stats) => stats.grants?.refresh_token ?? 0;
const codeGrants = (stats) => stats.grants?.authorization_code ?? 0;
const opRequests = (stats, endpoint) => stats.requests?.[new URL(endpoint).pathname] ?? 0;

/**
 * Signs in through the OP's login form in page, which first loads /<query>. Returns the token
 * response of the code exchange and when it arrived.
 */
async function login(rec, page, server, query = "") {
  await page.goto(`${server.appOrigin}/${query}`);
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  const before = rec.grants("authorization_code").length;
  const issuerOrigin = new URL(server.config.issuer).origin;
  await page.click("#login");
  await page.waitForURL((u) => u.origin === issuerOrigin);
  await page.locator("#username").waitFor();
  const backOnApp = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin);
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await page.click("#sign-in");
  await backOnApp;
  await waitReady(page);
  assert.equal(await page.locator("#error").getAttribute("data-code"), "", `sign-in error: ${await page.locator("#error").textContent()}`);
  await page.locator('#status[data-state="signed-in"]').waitFor();
  const ex = rec.grants("authorization_code").slice(before);
  assert.equal(ex.length, 1, "one code exchange");
  assert.equal(ex[0].status, 200, "code exchange status");
  const tokens = await ex[0].body;
  assert.equal(typeof tokens.access_token, "string");
  assert.equal(typeof tokens.refresh_token, "string", "offline_access: a refresh token");
  return { tokens, receivedAt: ex[0].at };
}

/** Opens another tab of the app in the same context and waits for its first rendering. */
async function openTab(rec, server, path = "/") {
  const p = await rec.context.newPage();
  await p.goto(`${server.appOrigin}${path}`);
  await waitReady(p);
  return p;
}

const events = (page) => page.evaluate(() => window.__lifecycleEvents.map(({ name, detail }) => ({ name, detail })));
const isAuthenticated = (page) => page.evaluate(() => window.auth.isAuthenticated());

/** auth.fetch in the page; resolves to {status, body} or {code} (never a token). */
function authFetch(page, url, init) {
  return page.evaluate(
    ([u, i]) =>
      window.auth.fetch(u, i).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        (e) => ({ code: e && e.code, message: String(e && e.message) }),
      ),
    [url, init],
  );
}

/** Sleeps until the access token's exp (JWT claim) has passed by marginMs. */
async function untilExpired(accessToken, marginMs = 400) {
  const exp = jwtPayload(accessToken).exp * 1000;
  await sleep(Math.max(0, exp - Date.now() + marginMs));
}

async function flakyReport(server, id) {
  const res = await fetch(`${server.appOrigin}/__test/flaky?id=${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, "/__test/flaky");
  return (await res.json()).requests;
}

// ---------------------------------------------------------------------------------------------
// 1. Single-flight refresh

lifecycle("single flight: 200 concurrent auth.fetch with an expired token make exactly one refresh grant", () => short, async (rec, server, t) => {
  const { page } = rec;
  const { tokens } = await login(rec, page, server, "?autoRefresh=0");
  const s0 = await server.stats();
  await untilExpired(tokens.access_token);

  const s1 = await server.stats();
  assert.equal(refreshGrants(s1) - refreshGrants(s0), 0, "autoRefresh: false — no proactive refresh while the token expired");
  const reqMark = rec.requests.length;
  const results = await page.evaluate(() =>
    Promise.all(
      Array.from({ length: 200 }, () =>
        window.auth.fetch("/api/me").then(
          (r) => r.status,
          (e) => `rejected: ${e && e.code}`,
        ),
      ),
    ),
  );
  const s2 = await server.stats();

  const tally = results.reduce((m, r) => ({ ...m, [r]: (m[r] || 0) + 1 }), {});
  t.diagnostic(`200 calls: statuses ${JSON.stringify(tally)}, refresh_token grants at the OP: ${refreshGrants(s2) - refreshGrants(s1)}`);
  assert.deepEqual(tally, { 200: 200 }, "all 200 calls answered 200");
  assert.equal(refreshGrants(s2) - refreshGrants(s1), 1, "exactly one refresh_token grant reached the OP");
  const refreshes = rec.grants("refresh_token");
  assert.equal(refreshes.length, 1, "the browser sent one refresh request");
  assert.equal(refreshes[0].status, 200);
  const fresh = await refreshes[0].body;
  assert.notEqual(fresh.access_token, tokens.access_token, "a new access token");

  const me = rec.requests.slice(reqMark).filter((r) => new URL(r.url).pathname === "/api/me");
  assert.equal(me.length, 200, "200 requests to /api/me (no retries)");
  const auths = await Promise.all(me.map((r) => r.request.headerValue("authorization")));
  assert.ok(
    auths.every((h) => h === `Bearer ${fresh.access_token}`),
    `every request carried the refreshed token (${auths.filter((h) => h !== `Bearer ${fresh.access_token}`).length} did not)`,
  );
});

// ---------------------------------------------------------------------------------------------
// 2. Proactive refresh across four tabs, then logout everywhere

lifecycle("four tabs: one refresh grant per refresh period for the whole origin, /api/me everywhere, logout signs out all", () => short, async (rec, server, t) => {
  const tab1 = rec.page;
  const { tokens, receivedAt } = await login(rec, tab1, server);
  const s0 = await server.stats();
  const authorizeBefore = opRequests(s0, server.discovery.authorization_endpoint);
  const tabs = [tab1];
  for (let i = 0; i < 3; i++) tabs.push(await openTab(rec, server));
  // The others got the session from tab 1 (start-up handoff), without visiting the OP.
  for (const [i, p] of tabs.entries()) {
    await p.locator('#status[data-state="signed-in"]').waitFor({ timeout: 5_000 });
    assert.equal(await isAuthenticated(p), true, `tab ${i + 1} signed in`);
  }
  const s1 = await server.stats();
  assert.equal(codeGrants(s1), codeGrants(s0), "no further code grant for tabs 2-4");
  assert.equal(opRequests(s1, server.discovery.authorization_endpoint), authorizeBefore, "tabs 2-4 did not go to /authorize");

  // Default autoRefresh: refresh at min(60 s, lifetime/2) before expiry, i.e. every lifetime/2.
  assert.ok(tokens.expires_in > 0 && tokens.expires_in < 60, `premise: short-lived token (expires_in ${tokens.expires_in})`);
  const period = (tokens.expires_in * 1000) / 2;
  await sleep(Math.max(0, receivedAt + 2.5 * period - Date.now())); // past the first token's expiry
  const opGrants = refreshGrants(await server.stats()) - refreshGrants(s0); // at the OP, over:
  const elapsed = Date.now() - receivedAt;
  const refreshes = rec.grants("refresh_token"); // the responses the browser got
  const measured = {
    opGrants,
    succeeded: refreshes.filter((e) => e.status === 200).length,
    failed: refreshes.filter((e) => e.status !== 200).length,
    refreshTokenReuses: refreshes.length - new Set(refreshes.map((e) => e.form.get("refresh_token"))).size,
  };
  const perTab = await Promise.all(tabs.map(events));
  const own = perTab.map((evs) => evs.filter((e) => e.name === "tokenRefreshed" && !e.detail?.source).length);
  const errors = perTab.flatMap((evs, i) => evs.filter((e) => e.name === "error").map((e) => `tab ${i + 1}: ${JSON.stringify(e.detail)}`));
  t.diagnostic(`4 tabs over ${elapsed} ms, refresh period ${period} ms: ${JSON.stringify(measured)}, own refreshes per tab ${JSON.stringify(own)}, error events ${errors.length}`);
  for (const [i, p] of tabs.entries()) assert.equal(await isAuthenticated(p), true, `tab ${i + 1} still signed in`);
  for (const [i, evs] of perTab.entries()) {
    assert.ok(evs.some((e) => e.name === "tokenRefreshed"), `tab ${i + 1} learnt of the refresh`);
  }

  // Every tab can call the API afterwards (at most one more refresh for the origin).
  const s2 = await server.stats();
  const calls = await Promise.all(tabs.map((p) => authFetch(p, "/api/me")));
  const s3 = await server.stats();
  assert.deepEqual(
    calls.map((c) => c.status ?? c.code),
    [200, 200, 200, 200],
    `auth.fetch("/api/me") in tabs 1-4: ${JSON.stringify(calls.map((c) => c.status ?? c.code))}`,
  );
  t.diagnostic(`4 concurrent /api/me calls: refresh_token grants ${refreshGrants(s3) - refreshGrants(s2)}`);
  assert.ok(refreshGrants(s3) - refreshGrants(s2) <= 1, `at most one refresh for four concurrent calls, got ${refreshGrants(s3) - refreshGrants(s2)}`);

  // Logout in tab 1: every tab is signed out; the others hear it as other_tab.
  const backOnApp = waitForNavigationRequest(tab1, (u) => u.origin === server.appOrigin);
  await tab1.click("#logout");
  await backOnApp;
  await waitReady(tab1);
  const s4 = await server.stats();
  assert.equal(
    opRequests(s4, server.discovery.revocation_endpoint) - opRequests(s3, server.discovery.revocation_endpoint),
    1,
    "one RFC 7009 revocation request",
  );
  for (const [i, p] of tabs.entries()) {
    await p.locator('#status[data-state="signed-out"]').waitFor({ timeout: 5_000 });
    assert.equal(await isAuthenticated(p), false, `tab ${i + 1} signed out`);
  }
  for (const [i, p] of tabs.slice(1).entries()) {
    const out = (await events(p)).filter((e) => e.name === "signedOut");
    assert.deepEqual(out.map((e) => e.detail.reason), ["other_tab"], `tab ${i + 2}: one signedOut event, reason other_tab`);
  }

  // One refresh per refresh period for the whole origin (asserted last, so that a failure here
  // still shows that everything above held): at the OP at least one and at most as many
  // refresh_token grants as refresh periods elapsed (timers run late, never early); in the browser
  // no refresh failed and no refresh token was sent twice.
  const why =
    `${JSON.stringify(measured)} over ${elapsed} ms (refresh period ${period} ms); ` +
    `own tokenRefreshed per tab ${JSON.stringify(own)}; error events: ${errors.join("; ") || "none"}`;
  assert.ok(opGrants >= 1 && opGrants <= Math.floor(elapsed / period), `refresh_token grants per refresh period, all tabs together: ${why}`);
  assert.deepEqual(
    { failed: measured.failed, refreshTokenReuses: measured.refreshTokenReuses },
    { failed: 0, refreshTokenReuses: 0 },
    `no duplicate refresh: ${why}`,
  );
  assert.deepEqual(errors, [], "no failed background refresh in any tab");
});

// ---------------------------------------------------------------------------------------------
// 3. Reused (rotated) refresh token

lifecycle("reused refresh token: invalid_grant signs out with login_required, signedOut invalid_grant, no retry storm", () => short, async (rec, server, t) => {
  const { page } = rec;
  const { tokens } = await login(rec, page, server, "?autoRefresh=0");

  // Someone else (here: Node) uses the refresh token first; the OP rotates it (RFC 9700 §4.14.2).
  const res = await fetch(server.discovery.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: server.config.clientId }),
    signal: AbortSignal.timeout(5_000),
  });
  const rotated = await res.json();
  rec.ownTokenResponses.push(rotated);
  assert.equal(res.status, 200, `the refresh from Node: ${JSON.stringify(rotated.error)}`);
  assert.notEqual(rotated.refresh_token, tokens.refresh_token, "the OP rotated the refresh token");

  await untilExpired(tokens.access_token);
  const s1 = await server.stats();
  const outcome = await authFetch(page, "/api/me");
  const s2 = await server.stats();
  assert.equal(outcome.code, "login_required", `auth.fetch rejects with login_required, got ${JSON.stringify(outcome.code ?? outcome.status)}`);
  assert.equal(refreshGrants(s2) - refreshGrants(s1), 1, "one refresh attempt");
  const last = rec.grants("refresh_token").at(-1);
  assert.equal(last.status, 400);
  assert.equal((await last.body).error, "invalid_grant", "the OP answered invalid_grant");

  assert.equal(await isAuthenticated(page), false, "signed out");
  await page.locator('#status[data-state="signed-out"]').waitFor({ timeout: 5_000 });
  const out = (await events(page)).filter((e) => e.name === "signedOut");
  assert.deepEqual(out.map((e) => e.detail.reason), ["invalid_grant"], "one signedOut event, reason invalid_grant");

  // Nothing more goes to the token endpoint.
  const exchanges = rec.tokenExchanges.length;
  await sleep(2_000);
  const s3 = await server.stats();
  t.diagnostic(
    `forced refresh: refresh_token grants ${refreshGrants(s2) - refreshGrants(s1)}; token endpoint requests in the 2 s after: ` +
      `${opRequests(s3, server.discovery.token_endpoint) - opRequests(s2, server.discovery.token_endpoint)}`,
  );
  assert.equal(opRequests(s3, server.discovery.token_endpoint), opRequests(s2, server.discovery.token_endpoint), "no token endpoint request in the 2 s after");
  assert.equal(rec.tokenExchanges.length, exchanges, "the browser sent no token request in the 2 s after");
  const again = await authFetch(page, "/api/me");
  assert.equal(again.status, 401, "signed out, auth.fetch goes out without a token");
  assert.equal(refreshGrants(await server.stats()), refreshGrants(s2), "and makes no refresh attempt");
});

// ---------------------------------------------------------------------------------------------
// 4. 401 / 403 handling of auth.fetch

lifecycle("401 invalid_token: one refresh and one retry with the new token; second 401 returned; POST body replayed; 403 no refresh", () => long, async (rec, server, t) => {
  const { page } = rec;
  const { tokens } = await login(rec, page, server);
  const run = `r${Date.now().toString(36)}`;
  const newestAccessToken = async () => (await rec.grants("refresh_token").at(-1).body).access_token;

  // a) 401 once → refresh, retry with the NEW token, the caller sees 200.
  const log = [];
  let s = await server.stats();
  const once = await authFetch(page, `/api/flaky?id=${run}-once&fail=1`);
  let s2 = await server.stats();
  log.push(`401 once: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(once.status ?? once.code, 200, "the retry succeeded");
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "one refresh grant");
  let seen = await flakyReport(server, `${run}-once`);
  assert.equal(seen.length, 2, "the request was retried once");
  const t1 = await newestAccessToken();
  assert.notEqual(t1, tokens.access_token);
  assert.equal(seen[0].token, sha256(tokens.access_token), "first attempt: the original token");
  assert.equal(seen[1].token, sha256(t1), "retry: the refreshed token");

  // b) 401 twice → exactly one refresh, one retry, the caller gets the second 401.
  s = s2;
  const twice = await authFetch(page, `/api/flaky?id=${run}-twice&fail=2`);
  s2 = await server.stats();
  log.push(`401 twice: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(twice.status ?? twice.code, 401, "the second 401 goes back to the caller");
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "exactly one refresh grant");
  seen = await flakyReport(server, `${run}-twice`);
  assert.equal(seen.length, 2, "one retry only");
  const t2 = await newestAccessToken();
  assert.deepEqual(seen.map((r) => r.token), [sha256(t1), sha256(t2)], "retry with the new token");

  // c) POST with a JSON body: the retry sends the identical body.
  s = s2;
  const payload = JSON.stringify({ order: 42, note: "ünïcödé ✓", items: Array.from({ length: 50 }, (_, i) => `item-${i}`) });
  const post = await authFetch(page, `/api/flaky?id=${run}-post&fail=1`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: payload,
  });
  s2 = await server.stats();
  log.push(`POST 401 once: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(post.status ?? post.code, 200);
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "one refresh grant");
  seen = await flakyReport(server, `${run}-post`);
  assert.equal(seen.length, 2);
  for (const [i, r] of seen.entries()) {
    assert.equal(r.method, "POST", `attempt ${i + 1} method`);
    assert.equal(r.contentType, "application/json", `attempt ${i + 1} Content-Type`);
    assert.equal(r.body, payload, `attempt ${i + 1} body identical`);
  }
  assert.notEqual(seen[0].token, seen[1].token, "the retry used a new token");

  // d) 403 insufficient_scope: the token is fine, just not enough; no refresh, no retry.
  s = s2;
  const forbidden = await authFetch(page, `/api/forbidden?id=${run}-403`);
  s2 = await server.stats();
  log.push(`403: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(forbidden.status ?? forbidden.code, 403);
  assert.equal(refreshGrants(s2) - refreshGrants(s), 0, "no refresh for insufficient_scope");
  assert.equal((await flakyReport(server, `${run}-403`)).length, 1, "no retry");

  // e) Five requests rejected with the same token at once: still one refresh. (Started in one
  // synchronous batch, so that all first attempts carry the same token: the endpoint rejects the
  // first request of each id whatever its token, and a request that went out with an already
  // refreshed token would rightly cause another refresh.)
  s = s2;
  const many = await page.evaluate((ids) =>
    Promise.all(ids.map((id) => window.auth.fetch(`/api/flaky?id=${id}&fail=1`).then((r) => r.status, (e) => e && e.code))),
    Array.from({ length: 5 }, (_, i) => `${run}-many${i}`),
  );
  s2 = await server.stats();
  log.push(`5 x 401 once: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.deepEqual(many, [200, 200, 200, 200, 200]);
  const attempts = await Promise.all(Array.from({ length: 5 }, (_, i) => flakyReport(server, `${run}-many${i}`)));
  assert.deepEqual(attempts.map((a) => a.length), [2, 2, 2, 2, 2], "each retried once");
  assert.equal(new Set(attempts.map((a) => a[0].token)).size, 1, "premise: the five first attempts carried the same token");
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "one refresh for five requests rejected with the same token");
  assert.equal(new Set(attempts.map((a) => a[1].token)).size, 1, "all five retried with the one new token");
  t.diagnostic(`refresh_token grants per case: ${log.join(", ")}`);
});

// ---------------------------------------------------------------------------------------------
// 5. Reload, silent sign-in

lifecycle("reload: session handed over by another tab without the OP; alone signed out; signInSilently false/clean", () => long, async (rec, server) => {
  const tab1 = rec.page;
  await login(rec, tab1, server);
  const tab2 = await openTab(rec, server);
  await tab2.locator('#status[data-state="signed-in"]').waitFor({ timeout: 5_000 });

  // Reload with tab 2 open: signed in again from tab 2's memory.
  const issuerOrigin = new URL(server.config.issuer).origin;
  const s0 = await server.stats();
  const mark = rec.requests.length;
  await tab1.reload();
  await waitReady(tab1);
  await tab1.locator('#status[data-state="signed-in"]').waitFor({ timeout: 5_000 });
  assert.equal(await isAuthenticated(tab1), true);
  const s1 = await server.stats();
  assert.equal(opRequests(s1, server.discovery.authorization_endpoint), opRequests(s0, server.discovery.authorization_endpoint), "no /authorize request");
  assert.deepEqual(s1.grants, s0.grants, "no token grant");
  const toOP = rec.requests.slice(mark).filter((r) => r.page === tab1 && new URL(r.url).origin === issuerOrigin && r.navigation);
  assert.deepEqual(toOP.map((r) => bareURL(r.url)), [], "tab 1 did not navigate to the OP");
  assert.equal((await authFetch(tab1, "/api/me")).status, 200, "the handed-over session works");
  await assertContained(rec); // with both tabs open: nothing in any storage

  // Reload alone: signed out.
  await tab2.close();
  await tab1.reload();
  await waitReady(tab1);
  await tab1.locator('#status[data-state="signed-out"]').waitFor({ timeout: 5_000 });
  assert.equal(await isAuthenticated(tab1), false, "alone after a reload: signed out");

  // signInSilently (hidden iframe, prompt=none). The dev OP keeps no SSO session (zitadel's example
  // storage answers every prompt=none with login_required), so it resolves false.
  const s2 = await server.stats();
  const urlBefore = tab1.url();
  const silent = await tab1.evaluate(() =>
    window.auth.signInSilently().then(
      (v) => ({ value: v }),
      (e) => ({ code: e && e.code, message: String(e && e.message) }),
    ),
  );
  assert.deepEqual(silent, { value: false }, "signInSilently() resolves false: no session at the OP");
  const s3 = await server.stats();
  assert.equal(opRequests(s3, server.discovery.authorization_endpoint) - opRequests(s2, server.discovery.authorization_endpoint), 1, "one prompt=none request");
  assert.deepEqual(s3.grants, s2.grants, "no token grant");
  assert.equal(await isAuthenticated(tab1), false);
  assert.equal(tab1.url(), urlBefore, "the page did not navigate");
  assert.equal(await tab1.locator("iframe").count(), 0, "the iframe is gone");
  assert.equal(await tab1.locator("#error").getAttribute("data-code"), "", "no error shown");
  assert.deepEqual((await events(tab1)).filter((e) => e.name === "error" || e.name === "signedOut"), [], "no error/signedOut event");

  // Redirect mode: to the OP and back, signed out, no error shown.
  const cb = waitForNavigationRequest(tab1, (u) => u.origin === server.appOrigin && u.pathname === "/callback");
  await tab1.evaluate(() => {
    document.body.dataset.ready = "stale"; // so that waitReady below sees the callback page
    window.auth.signInSilently({ mode: "redirect" }).catch(() => {});
  });
  const cbURL = new URL((await cb).url());
  assert.equal(cbURL.searchParams.get("error"), "login_required", "the OP answered login_required");
  await waitReady(tab1);
  await tab1.locator('#status[data-state="signed-out"]').waitFor();
  assert.equal(await tab1.locator("#error").getAttribute("data-code"), "", `no error shown: ${await tab1.locator("#error").textContent()}`);
  assert.ok(!/[?&](code|state|error)=/.test(tab1.url()), `callback parameters left in the URL: ${redactURL(tab1.url())}`);
  assert.equal(await isAuthenticated(tab1), false);
  assert.deepEqual((await server.stats()).grants, s2.grants, "no token grant");
});

// ---------------------------------------------------------------------------------------------
// 6. Popup login

lifecycle("popup login: the popup signs in and closes itself, the page is signed in without navigating", () => long, async (rec, server) => {
  const { page } = rec;
  await page.goto(`${server.appOrigin}/`);
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  const urlBefore = page.url();
  const mainNavigations = [];
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) mainNavigations.push(redactURL(f.url()));
  });
  const s0 = await server.stats();

  const popupOpened = rec.context.waitForEvent("page");
  await page.click("#login-popup");
  const popup = await popupOpened;
  const popupClosed = popup.waitForEvent("close", { timeout: STEP_TIMEOUT_MS });
  await popup.locator("#username").waitFor();
  await popup.fill("#username", USERNAME);
  await popup.fill("#password", PASSWORD);
  await popup.click("#sign-in", { noWaitAfter: true });
  await popupClosed;

  await page.locator('#status[data-state="signed-in"]').waitFor();
  await page.locator("#login-popup").waitFor({ state: "hidden" }); // loginPopup settled, rendered
  const shownError = await page.locator("#error").textContent();
  assert.deepEqual(mainNavigations, [], "the main page never navigated");
  assert.equal(page.url(), urlBefore);
  assert.ok(popup.isClosed(), "the popup closed itself");
  const s1 = await server.stats();
  assert.equal(codeGrants(s1) - codeGrants(s0), 1, "one code grant");
  const ex = rec.grants("authorization_code");
  assert.equal(ex.length, 1);
  assert.equal(ex[0].page, page, "the main page (which holds the PKCE verifier) exchanged the code");
  const me = await authFetch(page, "/api/me");
  assert.equal(me.status, 200);
  assert.equal(JSON.parse(me.body).sub, jwtPayload((await ex[0].body).id_token).sub);
  assert.equal(shownError, "", "loginPopup resolved: no error shown");
});
