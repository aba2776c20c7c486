// End-to-end tests: demo SPA + pkce-wasm bundle + dev server (embedded zitadel OP), once per
// browser of BROWSERS (Chromium, Firefox, WebKit; see browsers.mjs).
//
// Prerequisites: `go build -o bin/devserver ./server` (or PKCE_SERVER_BIN) and the bundle in js/dist
// (`make build`). Run from js/: `node --test test/`. Env: E2E_APP_PORT / E2E_OP_PORT (18080/19090),
// BROWSERS (chromium,firefox,webkit), CHROMIUM_PATH, FIREFOX_PATH, MINIBROWSER_PATH.
//
// The tests observe through the page (evaluate, the DOM) and the dev server's records
// (/__test/stats: OP requests and grants; /__test/flaky: what an API endpoint received, tokens as
// SHA-256), never through the browser's network events, which classic WebDriver does not have.
//
// Each test gets a fresh browser context. On failure the server log (since the test started) and
// the tabs' URLs (codes/states redacted) are printed.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  OTHER_ORIGIN,
  accessTokenHash,
  forEachBrowser,
  navigateAndWait,
  pageDump,
  assertDumpClean,
  tokenCheck,
  signIn,
  startServer,
  waitReady,
  withSession as runSession,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 90_000;

/** Error codes a replayed callback may legitimately report (docs/architecture.md, wasm/core/errors.go). */
const REPLAY_ERROR_CODES = ["state_mismatch", "invalid_callback"];

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

const opRequests = (stats, endpoint) => stats.requests?.[new URL(endpoint).pathname] ?? 0;

/** What an allow-listed or foreign /api/echo answered to window.auth.fetch (errors kept as data). */
const echo = (page, url, asRequest = false) =>
  page.evaluate(
    ([u, r]) =>
      window.auth
        .fetch(r ? new Request(u) : u)
        .then((res) => res.json())
        .catch((e) => ({ fetchError: `${e && e.name}: ${e && e.message}` })),
    [url, asRequest],
  );

forEachBrowser((name, browser) => {
  const e2e = (title, fn, opts = {}) =>
    test(`[${name}] ${title}`, { timeout: TEST_TIMEOUT_MS, ...opts }, (t) => runSession(t, server, browser(), (s) => fn(s, t)));

  e2e("full login: sign in at the OP, claims shown, /api/me called with the Bearer token", async (s) => {
    const { page } = s;
    const { claims } = await signIn(s, server);

    // A public-client PKCE exchange: the OP refuses public clients without PKCE, so a code grant
    // that succeeded (signIn checked it at the OP) sent the right verifier; the ID token is ours.
    assert.ok(claims.sub, "ID token has a sub");
    const aud = [].concat(claims.aud);
    assert.ok(aud.includes(server.config.clientId), `ID token audience ${JSON.stringify(aud)} has the client_id`);
    assert.match(await page.textContent("#status"), /^Signed in as \S/);

    await page.click("#call-api");
    await page.waitForSelector('#api-result[data-status="200"]');
    const body = JSON.parse(await page.textContent("#api-result"));
    assert.equal(body.sub, claims.sub, "/api/me answers for the signed-in user (so it got the Bearer token)");

    // The token auth.fetch sends is the one the OP issued for this user (/api/flaky verifies it like
    // /api/me and records its hash).
    const res = await page.evaluate(() => window.auth.fetch("/api/flaky?fail=0&id=full-login-" + Date.now()).then((r) => r.json()));
    assert.equal(res.sub, claims.sub);
  });

  e2e("token containment: no token in storage, IndexedDB, cookies, URL, DOM", async (s) => {
    const { page } = s;
    const before = await server.stats();
    await signIn(s, server);
    await page.click("#call-api");
    await page.waitForSelector('#api-result[data-status="200"]');
    const hashes = [await accessTokenHash(page, server)];
    assert.match(hashes[0], /^[0-9a-f]{64}$/, "auth.fetch sent an access token");

    const dump = await pageDump(page);
    const check = await tokenCheck(server, hashes);
    for (const k of ["local", "session", "cookie", "historyState", "url", "dom"]) check(k, dump[k]);
    // The PKCE transaction is single-use: gone after the callback.
    for (const k of dump.sessionKeys) assert.ok(!k.startsWith("pkce-wasm.tx."), `pending transaction left in sessionStorage: ${k}`);
    assertDumpClean(dump, check);
    assert.ok(!/[?&#](code|state)=/.test(dump.url), `callback parameters left in the URL: ${dump.url}`);

    const after = await server.stats();
    assert.equal(after.grants.authorization_code - before.grants.authorization_code, 1, "one code grant");
  });

  e2e("allow-list: the Bearer token goes only to resourceOrigins", async (s) => {
    const { page } = s;
    await signIn(s, server);
    const otherURL = `${OTHER_ORIGIN}/api/echo`;
    assert.ok(!server.config.resourceOrigins.includes(OTHER_ORIGIN), "test premise: 127.0.0.1 is not allow-listed");

    // /api/echo reports whether an Authorization header arrived. A leaked header would also make the
    // browser preflight and the fetch fail: the error is kept as data and reported.
    const cross = await echo(page, otherURL);
    const crossReq = await echo(page, otherURL, true);
    const same = await echo(page, "/api/echo");
    assert.equal(cross.authorization, false, `no Authorization header to a non-allow-listed origin: ${JSON.stringify(cross)}`);
    assert.equal(crossReq.authorization, false, `no Authorization header to a non-allow-listed origin (Request input): ${JSON.stringify(crossReq)}`);
    assert.equal(same.authorization, true, `Authorization header on a same-origin request: ${JSON.stringify(same)}`);
  });

  e2e("logout: through the OP's end_session back to the app, signed out, no token sent after", async (s) => {
    const { page } = s;
    await signIn(s, server);
    const endSession = server.discovery.end_session_endpoint;
    assert.ok(endSession, "the OP advertises end_session_endpoint");

    const s0 = await server.stats();
    await navigateAndWait(page, () => page.click("#logout"));
    const s1 = await server.stats();
    assert.equal(opRequests(s1, endSession) - opRequests(s0, endSession), 1, `logout went through ${endSession}`);
    assert.ok((await page.url()).startsWith(server.appOrigin), "back on the app");
    assert.equal(await page.getAttribute("#error", "data-code"), "", "no error after logout");
    await page.waitForSelector('#status[data-state="signed-out"]');
    assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), false);

    // Signed out, auth.fetch to an allow-listed origin sends the request without a token, so the API
    // answers 401 (public endpoints on an allow-listed API keep working while signed out).
    const outcome = await page.evaluate(() =>
      window.auth.fetch("/api/me").then(
        (r) => ({ status: r.status }),
        (e) => ({ code: e && e.code, message: String(e && e.message) }),
      ),
    );
    assert.equal(outcome.status, 401, `auth.fetch("/api/me") after logout: got ${JSON.stringify(outcome)}`);
    assert.equal(await page.evaluate(() => fetch("/api/me").then((r) => r.status)), 401, "the API itself answers 401 without a token");
    assert.equal((await echo(page, "/api/echo")).authorization, false, "no Authorization header after logout");
    await page.click("#call-api");
    await page.waitForSelector('#api-result[data-status="401"]');
  });

  e2e("access denied at the OP: error shown, signed out, callback parameters removed", async (s) => {
    const { page } = s;
    await page.goto(`${server.appOrigin}/?silent=0`);
    await waitReady(page);
    const issuerOrigin = new URL(server.config.issuer).origin;
    await page.click("#login");
    await page.waitForURL((u) => u.origin === issuerOrigin);
    await page.waitForSelector("#deny");
    const before = await server.stats();

    await navigateAndWait(page, () => page.click("#deny"));
    await page.waitForSelector('#error[data-code="access_denied"]');
    assert.match(await page.textContent("#error"), /^access_denied: /);
    await page.waitForSelector('#status[data-state="signed-out"]');
    const url = await page.url();
    assert.ok(!/[?&](code|state|error)=/.test(url), `callback parameters left in the URL: ${url}`);
    assert.deepEqual((await server.stats()).grants, before.grants, "no token request after a denial");
  });

  e2e("replayed callback URL: not signed in, error reported, no second code grant at the OP", async (s) => {
    const { page } = s;
    const { callbackURL } = await signIn(s, server, { callbackURL: true });
    const u = new URL(callbackURL);
    assert.ok(u.searchParams.get("code") && u.searchParams.get("state"), "the callback URL carried code and state");

    const before = await server.stats();
    await page.goto(callbackURL);
    await waitReady(page);

    const code = await page.getAttribute("#error", "data-code");
    assert.ok(REPLAY_ERROR_CODES.includes(code), `replay reported ${JSON.stringify(code)}, want one of ${REPLAY_ERROR_CODES}`);
    // The replay signs nobody in. (Whether the earlier session is still there depends on whether
    // the browser kept the worker alive across this same-tab navigation; either is fine.)
    assert.ok(!/[?&](code|state)=/.test(await page.url()), "callback parameters left in the URL");

    const afterStats = await server.stats();
    assert.deepEqual(afterStats.grants, before.grants, "no token request reached the OP for the replay");
  });
});
