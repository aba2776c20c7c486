// End-to-end tests: demo SPA + pkce-wasm bundle + dev server (embedded zitadel OP) in headless
// Chromium, driven by playwright-core. The client runs in a worker: what it sent and received is
// checked on the servers' side (issued tokens, grants, what reached /api/*).
//
// Prerequisites: `go build -o bin/devserver ./server` (or PKCE_SERVER_BIN) and the bundle in js/dist
// (`make build`). Run from js/: `node --test test/`. Env: E2E_APP_PORT / E2E_OP_PORT (18080/19090),
// CHROMIUM_PATH (/usr/bin/chromium).
//
// Each test gets a fresh browser context. On failure the server log (since the test started), the
// page's navigations (codes/states redacted) and its console are printed.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  OTHER_ORIGIN,
  bareURL,
  launchBrowser,
  newSession,
  signIn,
  startServer,
  waitForNavigationRequest,
  waitReady,
  withSession as runSession,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 60_000;

/** Error codes a replayed callback may legitimately report (docs/architecture.md, wasm/core/errors.go). */
const REPLAY_ERROR_CODES = ["state_mismatch", "invalid_callback"];

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const withSession = (t, fn) => runSession(t, server, browser, fn);

const e2e = (name, fn) => test(name, { timeout: TEST_TIMEOUT_MS }, (t) => withSession(t, (s) => fn(s, t)));

// What reached the app's API, from the server's record (the client fetches from its worker).
const apiRequests = async (pred) => (await server.apiRequests()).filter(pred);

e2e("full login: sign in at the OP, claims shown, /api/me called with the Bearer token", async (s) => {
  const { page } = s;
  // The OP enforces PKCE S256 for this public client: the exchange succeeding is the check.
  const { tokens, claims } = await signIn(s, server);
  if (/\boffline_access\b/.test(server.config.scope || "")) {
    assert.equal(typeof tokens.refresh_token, "string", "offline_access requested: refresh token expected");
  }

  assert.match(await page.locator("#status").textContent(), /^Signed in as \S/);
  const shown = JSON.parse(await page.locator("#claims").textContent());
  assert.equal(shown.sub, claims.sub, "#claims shows the ID token's sub");
  assert.ok(claims.sub, "ID token has a sub");

  await page.click("#call-api");
  await page.locator('#api-result[data-status="200"]').waitFor();
  const body = JSON.parse(await page.locator("#api-result").textContent());
  assert.equal(body.sub, claims.sub, "/api/me answers for the signed-in user");

  const apiReqs = await apiRequests((r) => r.path === "/api/me");
  assert.equal(apiReqs.length, 1, "one /api/me request");
  assert.equal(apiReqs[0].authorization, `Bearer ${tokens.access_token}`, "/api/me carried the access token");
});

e2e("token containment: no token in storage, IndexedDB, cookies, URL, DOM or console", async (s) => {
  const { page, context } = s;
  const { tokens } = await signIn(s, server);
  await page.click("#call-api");
  await page.locator('#api-result[data-status="200"]').waitFor();

  const secrets = { access_token: tokens.access_token, id_token: tokens.id_token };
  if (tokens.refresh_token) secrets.refresh_token = tokens.refresh_token;
  // A JWT's signature segment alone is as good as a fingerprint of the token.
  for (const [k, v] of Object.entries({ ...secrets })) {
    const parts = v.split(".");
    if (parts.length === 3 && parts[2].length >= 16) secrets[`${k} signature`] = parts[2];
  }
  const authReq = s.requests.find((r) => r.navigation && bareURL(r.url) === server.discovery.authorization_endpoint);
  assert.ok(authReq, "the authorization request was seen");
  const state = new URL(authReq.url).searchParams.get("state");
  const nonce = new URL(authReq.url).searchParams.get("nonce");

  const assertClean = (where, text) => {
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!String(text).includes(value), `${name} found in ${where}`);
    }
  };

  // Web storage of the app origin.
  const storage = await page.evaluate(() => {
    const dump = (st) => Object.fromEntries(Array.from({ length: st.length }, (_, i) => st.key(i)).map((k) => [k, st.getItem(k)]));
    return { local: dump(localStorage), session: dump(sessionStorage) };
  });
  assertClean("localStorage", JSON.stringify(storage.local));
  assertClean("sessionStorage", JSON.stringify(storage.session));

  // The PKCE transaction is single-use: gone after the callback.
  for (const [k, v] of Object.entries(storage.session)) {
    assert.ok(!k.startsWith("pkce-wasm.tx."), `pending transaction left in sessionStorage: ${k}`);
    for (const [name, secret] of Object.entries({ state, nonce })) {
      if (secret) assert.ok(!k.includes(secret) && !String(v).includes(secret), `${name} left in sessionStorage (${k})`);
    }
  }

  // IndexedDB: only the worker's login-transaction store, and it is empty after the callback
  // (transactions are single-use). Whatever is there holds no token.
  const idb = await page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    const dump = {};
    for (const name of names) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      for (const store of db.objectStoreNames) {
        dump[`${name}/${store}`] = await new Promise((res) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
        });
      }
      db.close();
    }
    return { names, dump };
  });
  assert.ok(idb.names.every((n) => n === "pkce-wasm"), `unexpected IndexedDB databases: ${idb.names}`);
  for (const [where, rows] of Object.entries(idb.dump)) {
    assert.deepEqual(rows, [], `${where} still holds a login transaction after the callback`);
  }
  assertClean("IndexedDB", JSON.stringify(idb.dump));

  // Cookies of both origins (HttpOnly included) and everything the context keeps.
  const cookies = await context.cookies();
  const originCookies = await context.cookies([server.appOrigin, new URL(server.config.issuer).origin, OTHER_ORIGIN]);
  assertClean("cookies", JSON.stringify([...cookies, ...originCookies]));
  assertClean("storageState", JSON.stringify(await context.storageState()));

  // Address bar, DOM, console.
  assertClean("page.url()", page.url());
  assert.ok(!/[?&#](code|state)=/.test(page.url()), `callback parameters left in the URL: ${page.url()}`);
  assertClean("history.state", JSON.stringify(await page.evaluate(() => history.state)));
  assertClean("the DOM", await page.content());
  assertClean("console output", s.consoleLines.join("\n"));
});

e2e("allow-list: the Bearer token goes only to resourceOrigins", async (s) => {
  const { page } = s;
  const { tokens } = await signIn(s, server);
  const otherURL = `${OTHER_ORIGIN}/api/echo`;
  assert.ok(!server.config.resourceOrigins.includes(OTHER_ORIGIN), "test premise: 127.0.0.1 is not allow-listed");

  // A leaked Authorization header would make the browser preflight and the fetch fail: keep the
  // error as data so the header check below reports what happened.
  const echo = (input) =>
    page.evaluate(
      ([u, asRequest]) =>
        window.auth
          .fetch(asRequest ? new Request(u) : u)
          .then((r) => r.json())
          .catch((e) => ({ fetchError: `${e && e.name}: ${e && e.message}` })),
      input,
    );
  const cross = await echo([otherURL, false]);
  const crossReq = await echo([otherURL, true]);
  const same = await echo(["/api/echo", false]);

  const otherHost = new URL(OTHER_ORIGIN).host;
  const crossSeen = await apiRequests((r) => r.host === otherHost && r.path === "/api/echo");
  assert.ok(crossSeen.length >= 2, "the cross-origin requests reached the server");
  for (const r of crossSeen) assert.equal(r.authorization, "", `${r.method} ${otherURL} carried an Authorization header`);
  assert.equal(cross.authorization, false, `no Authorization header to a non-allow-listed origin: ${JSON.stringify(cross)}`);
  assert.equal(
    crossReq.authorization,
    false,
    `no Authorization header to a non-allow-listed origin (Request input): ${JSON.stringify(crossReq)}`,
  );
  assert.equal(same.authorization, true, `Authorization header on a same-origin request: ${JSON.stringify(same)}`);

  const appHost = new URL(server.appOrigin).host;
  const sameSeen = await apiRequests((r) => r.host === appHost && r.path === "/api/echo");
  assert.equal(sameSeen.length, 1, "one same-origin echo request");
  assert.equal(sameSeen[0].authorization, `Bearer ${tokens.access_token}`);
});

e2e("logout: through the OP's end_session back to the app, signed out, no token sent after", async (s) => {
  const { page } = s;
  await signIn(s, server);
  const endSession = server.discovery.end_session_endpoint;
  assert.ok(endSession, "the OP advertises end_session_endpoint");

  const navStart = s.navigations().length;
  const backOnApp = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin);
  await page.click("#logout");
  await backOnApp;
  await waitReady(page);

  const hops = s.navigations().slice(navStart);
  assert.ok(
    hops.some((u) => bareURL(u) === endSession),
    `logout went through ${endSession}; navigations: ${hops.map((u) => bareURL(u)).join(" -> ")}`,
  );
  assert.equal(await page.locator("#error").getAttribute("data-code"), "", "no error after logout");
  await page.locator('#status[data-state="signed-out"]').waitFor();
  assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), false);

  // Signed out, auth.fetch to an allow-listed origin sends the request without a token, so the API
  // answers 401 (public endpoints on an allow-listed API keep working while signed out).
  const meBefore = (await server.apiRequests()).length;
  const outcome = await page.evaluate(() =>
    window.auth.fetch("/api/me").then(
      (r) => ({ status: r.status }),
      (e) => ({ code: e && e.code, message: String(e && e.message) }),
    ),
  );
  assert.equal(outcome.status, 401, `auth.fetch("/api/me") after logout: got ${JSON.stringify(outcome)}`);
  assert.equal(
    await page.evaluate(() => fetch("/api/me").then((r) => r.status)),
    401,
    "the API itself answers 401 without a token",
  );
  await page.click("#call-api");
  await page.locator('#api-result[data-status="401"]').waitFor();
  const after = (await server.apiRequests()).slice(meBefore).filter((r) => r.path === "/api/me");
  assert.ok(after.length >= 3, "the requests after logout reached the API");
  for (const r of after) assert.equal(r.authorization, "", `${r.method} /api/me after logout carried an Authorization header`);
});

e2e("access denied at the OP: error shown, signed out, callback parameters removed", async (s) => {
  const { page } = s;
  await page.goto(`${server.appOrigin}/`);
  await waitReady(page);
  const issuerOrigin = new URL(server.config.issuer).origin;
  await page.click("#login");
  await page.waitForURL((u) => u.origin === issuerOrigin);
  await page.locator("#deny").waitFor();

  const backOnApp = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin);
  await page.click("#deny");
  const cb = await backOnApp;
  assert.equal(new URL(cb.url()).searchParams.get("error"), "access_denied", "the OP answered error=access_denied");
  await waitReady(page);

  await page.locator('#error[data-code="access_denied"]').waitFor();
  assert.match(await page.locator("#error").textContent(), /^access_denied: /);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  const url = page.url();
  assert.ok(!/[?&](code|state|error)=/.test(url), `callback parameters left in the URL: ${url}`);
  assert.equal((await server.stats()).grants?.authorization_code, 0, "no token request after a denial");
});

e2e("replayed callback URL: not signed in, error reported, no second code grant at the OP", async (s) => {
  const { page } = s;
  const { callbackURL } = await signIn(s, server);
  const u = new URL(callbackURL);
  assert.ok(u.searchParams.get("code") && u.searchParams.get("state"), "the callback URL carried code and state");

  const before = await server.stats();
  await page.goto(callbackURL);
  await waitReady(page);

  const code = await page.locator("#error").getAttribute("data-code");
  assert.ok(REPLAY_ERROR_CODES.includes(code), `replay reported ${JSON.stringify(code)}, want one of ${REPLAY_ERROR_CODES}`);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), false);
  assert.ok(!/[?&](code|state)=/.test(page.url()), `callback parameters left in the URL: ${page.url()}`);

  const afterStats = await server.stats();
  assert.equal(
    afterStats.grants?.authorization_code,
    before.grants?.authorization_code,
    "no authorization_code grant reached the OP for the replay",
  );
});
