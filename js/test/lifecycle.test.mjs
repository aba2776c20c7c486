// Token-lifecycle end-to-end tests: single-flight refresh, proactive refresh across tabs (Web Locks +
// BroadcastChannel), a refresh answered invalid_grant, 401/403 handling of auth.fetch, reload and
// silent sign-in, popup login, and token containment throughout. Once per browser of BROWSERS.
//
// This file runs its own two dev servers (so the tokens' lifetime can differ from e2e.test.mjs):
//   short: -access-token-ttl 6s (env LIFECYCLE_SHORT_TTL), ports 18180/19190 — expiry and refresh
//   long:  the default 5 min TTL,                         ports 18280/19290 — everything else
// (env LIFECYCLE_SHORT_APP_PORT/_OP_PORT, LIFECYCLE_LONG_APP_PORT/_OP_PORT).
//
// Extra client options reach the demo's window.auth through its query string (demo/app.js), e.g.
// /?autoRefresh=0. The tests observe through the pages (evaluate; the demo's window.auth events,
// recorded from when a page is ready) and the dev server's records: /__test/stats counts OP
// requests and token grants; /api/flaky, /api/forbidden and /__test/flaky (server/lifecycle_hooks.go)
// record what auth.fetch sent, the token as its SHA-256. Never through the browser's network events
// (classic WebDriver has none). After each test no JWT, and no string hashing to an access token
// seen by the server, may appear in any tab's URL, Web Storage, IndexedDB, cookies, history.state
// or DOM.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  PASSWORD,
  USERNAME,
  accessTokenHash,
  assertNoTokens,
  describePages,
  forEachBrowser,
  navigateAndWait,
  pageDump,
  assertDumpClean,
  tokenCheck,
  redactURL,
  shownClaims,
  startServer,
  waitReady,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 90_000;
const SHORT_TTL = process.env.LIFECYCLE_SHORT_TTL || "6s";
const SHORT_TTL_MS = parseTTL(SHORT_TTL);
const env = (name, def) => Number(process.env[name] || def);

function parseTTL(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(s);
  if (!m) throw new Error(`LIFECYCLE_SHORT_TTL: want e.g. 6s, got ${s}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]];
}

let short; // dev server with short-lived access tokens
let long; // dev server with the default TTL

before(async () => {
  [short, long] = await Promise.all([
    startServer({
      appPort: env("LIFECYCLE_SHORT_APP_PORT", 18180),
      opPort: env("LIFECYCLE_SHORT_OP_PORT", 19190),
      extraArgs: ["-access-token-ttl", SHORT_TTL],
    }),
    startServer({ appPort: env("LIFECYCLE_LONG_APP_PORT", 18280), opPort: env("LIFECYCLE_LONG_OP_PORT", 19290) }),
  ]);
});

after(async () => {
  await Promise.all([short?.stop(), long?.stop()]);
});

// ---------------------------------------------------------------------------------------------
// Recording and containment

/**
 * Records the lifecycle events of the page's window.auth from now on (call when the page is ready;
 * a reload starts a new record). Classic WebDriver has no init scripts, so earlier events are not
 * seen: the tests only assert on events that happen after the page is ready.
 */
function recordEvents(page) {
  return page.evaluate(() => {
    if (window.__lifecycleEvents) return;
    const events = [];
    Object.defineProperty(window, "__lifecycleEvents", { value: events });
    for (const name of ["tokenRefreshed", "tokenExpiring", "signedOut", "error"]) {
      window.auth.on(name, (d) =>
        events.push({
          name,
          at: Date.now(),
          detail: d == null || typeof d !== "object" ? d : { reason: d.reason, source: d.source, code: d.code, message: d.message === undefined ? undefined : String(d.message) },
        }),
      );
    }
  });
}

/** A fresh context (isolated profile) with one tab; tokenHashes collects the access tokens seen. */
async function newRecorder(server, browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  return { server, context, page, browserName: browser.name, tokenHashes: new Set(), diagnostics: () => describePages(context) };
}

/**
 * Token containment (README "What it checks"): no JWT (ID and access tokens are JWTs here) and no
 * string hashing to an access token the server saw, in any tab's URL, or in Web Storage, IndexedDB,
 * document.cookie, history.state or the DOM of the app's tabs; no login transaction left behind.
 */
async function assertContained(rec) {
  const hashes = [...rec.tokenHashes];
  for (const p of await rec.context.pages()) {
    if (p.isClosed()) continue;
    let u;
    try {
      u = await p.url();
    } catch {
      continue; // closed meanwhile
    }
    assertNoTokens(`a tab's URL`, u, hashes);
    if (!u.startsWith(rec.server.appOrigin)) continue;
    const dump = await pageDump(p);
    const check = await tokenCheck(rec.server, hashes);
    for (const k of ["local", "session", "cookie", "historyState", "dom"]) check(k, dump[k]);
    assertDumpClean(dump, check);
    for (const k of dump.sessionKeys) assert.ok(!k.startsWith("pkce-wasm.tx."), `a login transaction was left in sessionStorage: ${k}`);
  }
}

/**
 * Registers, once per browser, fn with a fresh recorded context on server; containment is checked
 * after it passes. opts: node:test options, or a function of the browser name returning them (e.g.
 * { todo } for a known failure in one browser).
 */
function lifecycle(title, server, fn, opts = () => ({})) {
  forEachBrowserTests.push({ title, server, fn, opts });
}
const forEachBrowserTests = [];

// In WebKit the client runs a dedicated Worker per tab (js/src/pkce-wasm.js, webKitEngine): the
// tests of one session shared by several tabs do not apply there.
const SHARED_WORKER_ONLY = (name) =>
  name === "webkit" ? { skip: "WebKit: a dedicated worker per tab (README, Browsers): tabs do not share a session" } : {};

function registerLifecycle(name, browser, { title, server, fn, opts }) {
  test(`[${name}] ${title}`, { timeout: TEST_TIMEOUT_MS, ...opts(name) }, async (t) => {
    const srv = server();
    const mark = srv.mark();
    const rec = await newRecorder(srv, browser());
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
          await rec.diagnostics(),
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

const refreshGrants = (stats) => stats.grants?.refresh_token ?? 0;
const codeGrants = (stats) => stats.grants?.authorization_code ?? 0;
const opRequests = (stats, endpoint) => stats.requests?.[new URL(endpoint).pathname] ?? 0;

/**
 * Signs in through the OP's login form in page, which first loads /<query>. Checks one code grant
 * at the OP; returns the shown ID token claims, the access token's hash and when the sign-in began
 * (before the tokens arrived) and ended (after).
 */
async function login(rec, page, server, query = "") {
  await page.goto(`${server.appOrigin}/${query}`);
  await waitReady(page);
  await page.waitForSelector('#status[data-state="signed-out"]');
  const s0 = await server.stats();
  const issuerOrigin = new URL(server.config.issuer).origin;
  await page.click("#login");
  await page.waitForURL((u) => u.origin === issuerOrigin);
  await page.waitForSelector("#username");
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  const startedAt = Date.now();
  await navigateAndWait(page, () => page.click("#sign-in"));
  const doneAt = Date.now();
  assert.equal(await page.getAttribute("#error", "data-code"), "", `sign-in error: ${await page.textContent("#error")}`);
  await page.waitForSelector('#status[data-state="signed-in"]');
  await recordEvents(page);
  const s1 = await server.stats();
  assert.equal(codeGrants(s1) - codeGrants(s0), 1, "one code exchange at the OP");
  const hash = await accessTokenHash(page, server);
  rec.tokenHashes.add(hash);
  return { claims: await shownClaims(page), accessTokenHash: hash, startedAt, doneAt };
}

/** Opens another tab of the app in the same context and waits for its first rendering. */
async function openTab(rec, server, path = "/") {
  const p = await rec.context.newPage();
  await p.goto(`${server.appOrigin}${path}`);
  await waitReady(p);
  await recordEvents(p);
  return p;
}

const events = (page) => page.evaluate(() => (window.__lifecycleEvents || []).map(({ name, detail }) => ({ name, detail })));
const isAuthenticated = (page) => page.evaluate(() => window.auth.isAuthenticated());

/** auth.fetch in the page; resolves to {status, body} or {code} (never a token). */
function authFetch(page, url, init) {
  return page.evaluate(
    ([u, i]) =>
      window.auth.fetch(u, i === null ? undefined : i).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        (e) => ({ code: e && e.code, message: String(e && e.message) }),
      ),
    [url, init === undefined ? null : init],
  );
}

async function flakyReport(rec, id) {
  const res = await fetch(`${rec.server.appOrigin}/__test/flaky?id=${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, "/__test/flaky");
  const seen = (await res.json()).requests;
  for (const r of seen) if (r.token) rec.tokenHashes.add(r.token);
  return seen;
}

/** Polls until cond() holds (timeout ms). */
async function until(what, cond, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Single-flight refresh

lifecycle("single flight: 200 concurrent auth.fetch with an expired token make exactly one refresh grant", () => short, async (rec, server, t) => {
  const { page } = rec;
  const { accessTokenHash: first, doneAt } = await login(rec, page, server, "?autoRefresh=0");
  const s0 = await server.stats();
  await sleep(Math.max(0, doneAt + SHORT_TTL_MS + 500 - Date.now())); // the access token expired

  const s1 = await server.stats();
  assert.equal(refreshGrants(s1) - refreshGrants(s0), 0, "autoRefresh: false — no proactive refresh while the token expired");
  // 200 calls spread over 4 ids of /api/flaky (it keeps 64 requests per id), never failed on purpose.
  const run = `sf${Date.now().toString(36)}`;
  const ids = Array.from({ length: 4 }, (_, i) => `${run}-${i}`);
  const results = await page.evaluate(
    (ids) =>
      Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          window.auth.fetch(`/api/flaky?fail=0&id=${ids[i % ids.length]}`).then(
            (r) => r.status,
            (e) => `rejected: ${e && e.code}`,
          ),
        ),
      ),
    ids,
  );
  const s2 = await server.stats();

  const tally = results.reduce((m, r) => ({ ...m, [r]: (m[r] || 0) + 1 }), {});
  t.diagnostic(`200 calls: statuses ${JSON.stringify(tally)}, refresh_token grants at the OP: ${refreshGrants(s2) - refreshGrants(s1)}`);
  assert.deepEqual(tally, { 200: 200 }, "all 200 calls answered 200");
  assert.equal(refreshGrants(s2) - refreshGrants(s1), 1, "exactly one refresh_token grant reached the OP");
  const tokenPath = server.discovery.token_endpoint;
  assert.equal(opRequests(s2, tokenPath) - opRequests(s1, tokenPath), 1, "the browser sent one token request");

  const seen = (await Promise.all(ids.map((id) => flakyReport(rec, id)))).flat();
  assert.equal(seen.length, 200, "200 requests reached the API (no retries)");
  const tokens = new Set(seen.map((r) => r.token));
  assert.equal(tokens.size, 1, `every request carried the same token (${tokens.size} different)`);
  assert.notEqual([...tokens][0], first, "and it is the refreshed one, not the expired one");
});

// ---------------------------------------------------------------------------------------------
// 2. Proactive refresh across four tabs, then logout everywhere

lifecycle("four tabs: one refresh grant per refresh period for the whole origin, /api/me everywhere, logout signs out all", () => short, async (rec, server, t) => {
  const tab1 = rec.page;
  const { startedAt } = await login(rec, tab1, server);
  const s0 = await server.stats();
  const authorizeBefore = opRequests(s0, server.discovery.authorization_endpoint);
  const tabs = [tab1];
  for (let i = 0; i < 3; i++) tabs.push(await openTab(rec, server));
  // The others got the session from tab 1 (start-up handoff), without visiting the OP.
  for (const [i, p] of tabs.entries()) {
    await p.waitForSelector('#status[data-state="signed-in"]', { timeout: 5_000 });
    assert.equal(await isAuthenticated(p), true, `tab ${i + 1} signed in`);
  }
  const s1 = await server.stats();
  assert.equal(codeGrants(s1), codeGrants(s0), "no further code grant for tabs 2-4");
  assert.equal(opRequests(s1, server.discovery.authorization_endpoint), authorizeBefore, "tabs 2-4 did not go to /authorize");

  // Default autoRefresh: refresh at min(60 s, lifetime/2) before expiry, i.e. every lifetime/2.
  assert.ok(SHORT_TTL_MS < 60_000, `premise: short-lived token (${SHORT_TTL})`);
  const period = SHORT_TTL_MS / 2;
  await sleep(Math.max(0, startedAt + 2.5 * period - Date.now())); // past the first token's expiry
  // Tabs record events from when they are ready (no init scripts over WebDriver): a tab that became
  // ready after the first refresh hears of the next one. Wait for that, at most 2 more periods.
  const heardAll = async () => (await Promise.all(tabs.map(events))).every((evs) => evs.some((e) => e.name === "tokenRefreshed"));
  await until("every tab to hear of a refresh", heardAll, 2 * period).catch(() => {});
  const s1b = await server.stats();
  const opGrants = refreshGrants(s1b) - refreshGrants(s0);
  const tokenPath = server.discovery.token_endpoint;
  const tokenRequests = opRequests(s1b, tokenPath) - opRequests(s0, tokenPath);
  const elapsed = Date.now() - startedAt; // startedAt is before the tokens arrived: elapsed is generous
  const perTab = await Promise.all(tabs.map(events));
  const own = perTab.map((evs) => evs.filter((e) => e.name === "tokenRefreshed" && !e.detail?.source).length);
  const errors = perTab.flatMap((evs, i) => evs.filter((e) => e.name === "error" || e.name === "signedOut").map((e) => `tab ${i + 1}: ${e.name} ${JSON.stringify(e.detail)}`));
  t.diagnostic(`4 tabs over ${elapsed} ms, refresh period ${period} ms: refresh grants ${opGrants}, token requests ${tokenRequests}, own refreshes per tab ${JSON.stringify(own)}, error/signedOut events ${errors.length}`);
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
  rec.tokenHashes.add(await accessTokenHash(tab1, server));

  // Logout in tab 1: every tab is signed out; the others hear it as other_tab.
  await navigateAndWait(tab1, () => tab1.click("#logout"));
  const s4 = await server.stats();
  assert.equal(
    opRequests(s4, server.discovery.revocation_endpoint) - opRequests(s3, server.discovery.revocation_endpoint),
    1,
    "one RFC 7009 revocation request",
  );
  for (const [i, p] of tabs.entries()) {
    await p.waitForSelector('#status[data-state="signed-out"]', { timeout: 5_000 });
    assert.equal(await isAuthenticated(p), false, `tab ${i + 1} signed out`);
  }
  for (const [i, p] of tabs.slice(1).entries()) {
    const out = (await events(p)).filter((e) => e.name === "signedOut");
    assert.deepEqual(out.map((e) => e.detail.reason), ["other_tab"], `tab ${i + 2}: one signedOut event, reason other_tab`);
  }

  // One refresh per refresh period for the whole origin (asserted last, so that a failure here
  // still shows that everything above held): at the OP at least one and at most as many
  // refresh_token grants as refresh periods elapsed (timers run late, never early); no token request
  // but those grants; no refresh failed in any tab (a failed or duplicate refresh, e.g. a reused
  // refresh token, shows as an error or signedOut event).
  const why = `refresh grants ${opGrants}, token requests ${tokenRequests} over ${elapsed} ms (refresh period ${period} ms); own tokenRefreshed per tab ${JSON.stringify(own)}; error/signedOut events: ${errors.join("; ") || "none"}`;
  assert.ok(opGrants >= 1 && opGrants <= Math.floor(elapsed / period), `refresh_token grants per refresh period, all tabs together: ${why}`);
  assert.equal(tokenRequests, opGrants, `no token request besides the refresh grants: ${why}`);
  assert.deepEqual(errors, [], `no failed background refresh in any tab: ${why}`);
}, SHARED_WORKER_ONLY);

// ---------------------------------------------------------------------------------------------
// 3. A refresh answered invalid_grant (as for a reused, rotated refresh token)

lifecycle("refresh answered invalid_grant: signs out with login_required, signedOut invalid_grant, no retry storm", () => short, async (rec, server, t) => {
  const { page } = rec;
  const { doneAt } = await login(rec, page, server, "?autoRefresh=0");
  await sleep(Math.max(0, doneAt + SHORT_TTL_MS + 500 - Date.now()));

  // The OP answers the next successful token request with 400 invalid_grant (server/misbehave.go),
  // what it answers to a refresh token that was already used (RFC 9700 §4.14.2).
  await server.misbehave("invalid_grant");
  try {
    const s1 = await server.stats();
    const outcome = await authFetch(page, "/api/me");
    const s2 = await server.stats();
    assert.equal(outcome.code, "login_required", `auth.fetch rejects with login_required, got ${JSON.stringify(outcome.code ?? outcome.status)}`);
    assert.equal(refreshGrants(s2) - refreshGrants(s1), 1, "one refresh attempt");
    assert.ok((await server.misbehaveState()).applied >= 1, "the OP answered invalid_grant");

    assert.equal(await isAuthenticated(page), false, "signed out");
    await page.waitForSelector('#status[data-state="signed-out"]', { timeout: 5_000 });
    const out = (await events(page)).filter((e) => e.name === "signedOut");
    assert.deepEqual(out.map((e) => e.detail.reason), ["invalid_grant"], "one signedOut event, reason invalid_grant");

    // Nothing more goes to the token endpoint.
    await sleep(2_000);
    const s3 = await server.stats();
    const tokenPath = server.discovery.token_endpoint;
    t.diagnostic(`forced refresh: refresh_token grants ${refreshGrants(s2) - refreshGrants(s1)}; token endpoint requests in the 2 s after: ${opRequests(s3, tokenPath) - opRequests(s2, tokenPath)}`);
    assert.equal(opRequests(s3, tokenPath), opRequests(s2, tokenPath), "no token endpoint request in the 2 s after");
    const again = await authFetch(page, "/api/me");
    assert.equal(again.status, 401, "signed out, auth.fetch goes out without a token");
    assert.equal(refreshGrants(await server.stats()), refreshGrants(s2), "and makes no refresh attempt");
  } finally {
    await server.misbehave("");
  }
});

// ---------------------------------------------------------------------------------------------
// 4. 401 / 403 handling of auth.fetch

lifecycle("401 invalid_token: one refresh and one retry with the new token; second 401 returned; 403 no refresh; five 401s one refresh", () => long, async (rec, server, t) => {
  const { page } = rec;
  const { accessTokenHash: t0 } = await login(rec, page, server);
  const run = `r${Date.now().toString(36)}`;

  // a) 401 once → refresh, retry with the NEW token, the caller sees 200.
  const log = [];
  let s = await server.stats();
  const once = await authFetch(page, `/api/flaky?id=${run}-once&fail=1`);
  let s2 = await server.stats();
  log.push(`401 once: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(once.status ?? once.code, 200, "the retry succeeded");
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "one refresh grant");
  let seen = await flakyReport(rec, `${run}-once`);
  assert.equal(seen.length, 2, "the request was retried once");
  assert.equal(seen[0].token, t0, "first attempt: the original token");
  const t1 = seen[1].token;
  assert.notEqual(t1, t0, "retry: a refreshed token");

  // b) 401 twice → exactly one refresh, one retry, the caller gets the second 401.
  s = s2;
  const twice = await authFetch(page, `/api/flaky?id=${run}-twice&fail=2`);
  s2 = await server.stats();
  log.push(`401 twice: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(twice.status ?? twice.code, 401, "the second 401 goes back to the caller");
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "exactly one refresh grant");
  seen = await flakyReport(rec, `${run}-twice`);
  assert.equal(seen.length, 2, "one retry only");
  assert.equal(seen[0].token, t1, "first attempt: the token of the last refresh");
  assert.ok(seen[1].token && seen[1].token !== t1, "retry with a new token");

  // d) 403 insufficient_scope: the token is fine, just not enough; no refresh, no retry.
  s = s2;
  const forbidden = await authFetch(page, `/api/forbidden?id=${run}-403`);
  s2 = await server.stats();
  log.push(`403: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.equal(forbidden.status ?? forbidden.code, 403);
  assert.equal(refreshGrants(s2) - refreshGrants(s), 0, "no refresh for insufficient_scope");
  assert.equal((await flakyReport(rec, `${run}-403`)).length, 1, "no retry");

  // e) Five requests rejected with the same token at once: still one refresh. (Started in one
  // synchronous batch, so that all first attempts carry the same token: the endpoint rejects the
  // first request of each id whatever its token, and a request that went out with an already
  // refreshed token would rightly cause another refresh.)
  s = s2;
  const many = await page.evaluate(
    (ids) => Promise.all(ids.map((id) => window.auth.fetch(`/api/flaky?id=${id}&fail=1`).then((r) => r.status, (e) => e && e.code))),
    Array.from({ length: 5 }, (_, i) => `${run}-many${i}`),
  );
  s2 = await server.stats();
  log.push(`5 x 401 once: ${refreshGrants(s2) - refreshGrants(s)}`);
  assert.deepEqual(many, [200, 200, 200, 200, 200]);
  const attempts = await Promise.all(Array.from({ length: 5 }, (_, i) => flakyReport(rec, `${run}-many${i}`)));
  assert.deepEqual(attempts.map((a) => a.length), [2, 2, 2, 2, 2], "each retried once");
  assert.equal(new Set(attempts.map((a) => a[0].token)).size, 1, "premise: the five first attempts carried the same token");
  assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "one refresh for five requests rejected with the same token");
  assert.equal(new Set(attempts.map((a) => a[1].token)).size, 1, "all five retried with the one new token");
  t.diagnostic(`refresh_token grants per case: ${log.join(", ")}`);
});

// Firefox has no Request.body: the client clones a request for its replay only when body is
// non-null, so the POST goes out once and its retry fails (network_error). The client is being
// rewritten elsewhere; known failure until then.

lifecycle(
  "401 invalid_token on a POST with a JSON body: one refresh, the retry sends the identical body",
  () => long,
  async (rec, server) => {
    const { page } = rec;
    const { accessTokenHash: t0 } = await login(rec, page, server);
    const run = `p${Date.now().toString(36)}`;
    const s = await server.stats();
    const payload = JSON.stringify({ order: 42, note: "ünïcödé ✓", items: Array.from({ length: 50 }, (_, i) => `item-${i}`) });
    const post = await authFetch(page, `/api/flaky?id=${run}-post&fail=1`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: payload,
    });
    const s2 = await server.stats();
    assert.equal(post.status ?? post.code, 200, `the retried POST: ${JSON.stringify(post)}`);
    assert.equal(refreshGrants(s2) - refreshGrants(s), 1, "one refresh grant");
    const seen = await flakyReport(rec, `${run}-post`);
    assert.equal(seen.length, 2);
    for (const [i, r] of seen.entries()) {
      assert.equal(r.method, "POST", `attempt ${i + 1} method`);
      assert.equal(r.contentType, "application/json", `attempt ${i + 1} Content-Type`);
      assert.equal(r.body, payload, `attempt ${i + 1} body identical`);
    }
    assert.equal(seen[0].token, t0, "first attempt: the original token");
    assert.notEqual(seen[0].token, seen[1].token, "the retry used a new token");
  },
);

// ---------------------------------------------------------------------------------------------
// 5. Reload, silent sign-in

lifecycle("reload: the session lives on while another tab is open; all tabs closed, signed out; signInSilently with and without an OP session", () => long, async (rec, server) => {
  const tab1 = rec.page;
  await login(rec, tab1, server);
  const tab2 = await openTab(rec, server);
  await tab2.waitForSelector('#status[data-state="signed-in"]', { timeout: 5_000 });

  // Reload with tab 2 open: the shared worker (or, without SharedWorker, nothing: see below) keeps
  // the session, so tab 1 is signed in again without the OP.
  const s0 = await server.stats();
  await tab1.reload();
  await waitReady(tab1);
  await tab1.waitForSelector('#status[data-state="signed-in"]', { timeout: 5_000 });
  assert.equal(await isAuthenticated(tab1), true);
  const s1 = await server.stats();
  assert.deepEqual(s1.requests, s0.requests, "no request to the OP at all (no /authorize, no token grant)");
  assert.equal((await authFetch(tab1, "/api/me")).status, 200, "the session works after the reload");
  rec.tokenHashes.add(await accessTokenHash(tab1, server));
  await assertContained(rec); // with both tabs open: nothing in any storage

  // Every tab closed: the worker ends with its last tab, and the session with it. (A reload of
  // the only tab may or may not end it: browsers may keep a shared worker alive across a
  // same-tab navigation. Not asserted.)
  // (A tab on another origin stays open: with WebDriver, closing a session's last window ends it.)
  const tab3 = await rec.context.newPage();
  await tab3.goto(server.discovery.jwks_uri);
  await tab2.close();
  await tab1.close();
  await sleep(1_500);
  await tab3.goto(`${server.appOrigin}/`);
  await waitReady(tab3);
  await recordEvents(tab3);
  await tab3.waitForSelector('#status[data-state="signed-out"]', { timeout: 5_000 });
  assert.equal(await isAuthenticated(tab3), false, "all tabs closed: signed out");

  // signInSilently (hidden iframe, prompt=none): the OP still has the user's login session (its
  // SSO cookie), so the user is signed in again with no form and without the page navigating.
  let s2 = await server.stats();
  const urlBefore = await tab3.url();
  await tab3.evaluate(() => (window.__sameDocument = true));
  const silently = () => tab3.evaluate(() =>
    window.auth.signInSilently().then(
      (v) => ({ value: v }),
      (e) => ({ code: e && e.code, message: String(e && e.message) }),
    ),
  );
  assert.deepEqual(await silently(), { value: true }, "signInSilently() resolves true: the OP's session signs the user in");
  let s3 = await server.stats();
  assert.equal(opRequests(s3, server.discovery.authorization_endpoint) - opRequests(s2, server.discovery.authorization_endpoint), 1, "one prompt=none request");
  assert.equal(s3.grants.authorization_code - s2.grants.authorization_code, 1, "one code grant");
  assert.equal(await isAuthenticated(tab3), true);
  assert.equal((await authFetch(tab3, "/api/me")).status, 200, "the silently obtained session works");
  rec.tokenHashes.add(await accessTokenHash(tab3, server));

  // No session at the OP (ended through its test hook), signed out here: false, cleanly.
  const sso = await fetch(`${new URL(server.config.issuer).origin}/__test/sso/reset`, { method: "POST" });
  assert.ok(sso.ok, "POST /__test/sso/reset");
  await tab3.evaluate(() => window.auth.logout({ localOnly: true }));
  const eventsBefore = (await events(tab3)).length;
  s2 = await server.stats();
  assert.deepEqual(await silently(), { value: false }, "signInSilently() resolves false: no session at the OP");
  s3 = await server.stats();
  assert.equal(opRequests(s3, server.discovery.authorization_endpoint) - opRequests(s2, server.discovery.authorization_endpoint), 1, "one prompt=none request");
  assert.deepEqual(s3.grants, s2.grants, "no token grant");
  assert.equal(await isAuthenticated(tab3), false);
  assert.equal(await tab3.url(), urlBefore, "the page did not navigate");
  assert.equal(await tab3.evaluate(() => window.__sameDocument === true), true, "the same document");
  assert.equal(await tab3.count("iframe"), 0, "the iframe is gone");
  assert.equal(await tab3.getAttribute("#error", "data-code"), "", "no error shown");
  assert.deepEqual((await events(tab3)).slice(eventsBefore).filter((e) => e.name === "error" || e.name === "signedOut"), [], "no error/signedOut event");

  // Redirect mode: to the OP (prompt=none, answered login_required) and back, signed out, no error shown.
  await navigateAndWait(tab3, () =>
    tab3.evaluate(() => {
      window.auth.signInSilently({ mode: "redirect" }).catch(() => {});
    }),
  );
  const s4 = await server.stats();
  assert.equal(opRequests(s4, server.discovery.authorization_endpoint) - opRequests(s3, server.discovery.authorization_endpoint), 1, "one prompt=none request");
  await tab3.waitForSelector('#status[data-state="signed-out"]');
  assert.equal(await tab3.getAttribute("#error", "data-code"), "", `no error shown: ${await tab3.textContent("#error")}`);
  const back = await tab3.url();
  assert.ok(back.startsWith(server.appOrigin), "back on the app");
  assert.ok(!/[?&](code|state|error)=/.test(back), `callback parameters left in the URL: ${redactURL(back)}`);
  assert.equal(await isAuthenticated(tab3), false);
  assert.deepEqual(s4.grants, s3.grants, "no token grant");
}, SHARED_WORKER_ONLY);

// ---------------------------------------------------------------------------------------------
// 6. Popup login

lifecycle("popup login: the popup signs in and closes itself, the page is signed in without navigating", () => long, async (rec, server) => {
  const { page } = rec;
  await page.goto(`${server.appOrigin}/`);
  await waitReady(page);
  await page.waitForSelector('#status[data-state="signed-out"]');
  const urlBefore = await page.url();
  await page.evaluate(() => (window.__sameDocument = true));
  const s0 = await server.stats();

  const others = async () => (await rec.context.pages()).filter((p) => p !== page && !p.isClosed());
  await page.click("#login-popup");
  const [popup] = await until("the popup", async () => ((await others()).length ? others() : null));
  await popup.waitForSelector("#username");
  await popup.fill("#username", USERNAME);
  await popup.fill("#password", PASSWORD);
  // The popup closes itself after the callback: the click may outlive it.
  await popup.click("#sign-in").catch(() => {});
  await until("the popup to close", async () => (await others()).length === 0);

  await page.waitForSelector('#status[data-state="signed-in"]');
  await page.waitForSelector("#login-popup", { state: "hidden" }); // loginPopup settled, rendered
  const shownError = await page.textContent("#error");
  assert.equal(await page.url(), urlBefore, "the main page never navigated");
  assert.equal(await page.evaluate(() => window.__sameDocument === true), true, "the same document");
  const s1 = await server.stats();
  assert.equal(codeGrants(s1) - codeGrants(s0), 1, "one code grant");
  const me = await authFetch(page, "/api/me");
  assert.equal(me.status, 200);
  assert.equal(JSON.parse(me.body).sub, (await shownClaims(page)).sub);
  assert.equal(shownError, "", "loginPopup resolved: no error shown");
  rec.tokenHashes.add(await accessTokenHash(page, server));
});

forEachBrowser((name, browser) => {
  for (const spec of forEachBrowserTests) registerLifecycle(name, browser, spec);
});
