// End-to-end test of the Go-WASM demo (demo/go/main.go on package wasm/pkce, page demo/go/ at
// /go/, redirect URI /go/callback): sign in at the OP, call /api/me through pkce's HTTPClient
// (golang.org/x/oauth2 Transport over net/http, i.e. JS fetch), check the Bearer token went with
// it and stayed out of storage, cookies and the URL.
//
// Prerequisites: `make build` (js/dist/demo-go.wasm and bin/devserver). Run from js/:
// `node --test --test-concurrency=1 test/gowasm.test.mjs`.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import {
  PASSWORD,
  USERNAME,
  bareURL,
  jwtPayload,
  launchBrowser,
  newSession,
  redactURL,
  startServer,
  waitForNavigationRequest,
  waitReady,
  withSession as runSession,
  CHROMIUM_SKIP,
  chromiumTest as test,
} from "./playwright-harness.mjs";

const TEST_TIMEOUT_MS = 90_000; // the Go demo is a ~11 MB module

let server;
let browser;

before(async () => {
  if (CHROMIUM_SKIP) return;
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const withSession = (t, fn) => runSession(t, server, browser, fn);

const e2e = (name, fn) => test(name, { timeout: TEST_TIMEOUT_MS }, (t) => withSession(t, (s) => fn(s, t)));

async function errorShown(page) {
  const code = await page.locator("#error").getAttribute("data-code");
  return code ? `${code}: ${await page.locator("#error").textContent()}` : "";
}

/** Signs in on /go/ through the OP's login form; returns the token endpoint's response. */
async function signInGo(s) {
  const { page } = s;
  const goURL = `${server.appOrigin}/go/`;
  await page.goto(goURL);
  await waitReady(page);
  assert.equal(await errorShown(page), "", "the Go demo started without an error");
  await page.locator('#status[data-state="signed-out"]').waitFor();

  const issuerOrigin = new URL(server.config.issuer).origin;
  await page.click("#login");
  await page.waitForURL((u) => u.origin === issuerOrigin);
  const authReq = s.requests.find((r) => r.navigation && bareURL(r.url) === server.discovery.authorization_endpoint);
  assert.ok(authReq, "the authorization request was seen");
  const authParams = new URL(authReq.url).searchParams;
  assert.equal(authParams.get("redirect_uri"), `${server.appOrigin}/go/callback`, "the Go demo's own redirect URI");
  assert.equal(authParams.get("code_challenge_method"), "S256");

  await page.locator("#username").waitFor();
  const backOnApp = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin);
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await page.click("#sign-in");
  const callbackReq = await backOnApp;
  assert.equal(bareURL(callbackReq.url()), `${server.appOrigin}/go/callback`, "the OP redirected to /go/callback");
  await waitReady(page);
  assert.equal(await errorShown(page), "", "callback handled without an error");
  await page.locator('#status[data-state="signed-in"]').waitFor();
  assert.equal(new URL(page.url()).pathname, "/go/", "back on /go/ (returnTo)");

  assert.equal(s.tokenExchanges.length, 1, "exactly one token endpoint exchange");
  const ex = s.tokenExchanges[0];
  assert.equal(ex.status, 200);
  assert.equal(ex.form.get("grant_type"), "authorization_code");
  assert.equal(ex.form.get("redirect_uri"), `${server.appOrigin}/go/callback`);
  assert.match(ex.form.get("code_verifier") || "", /^[A-Za-z0-9._~-]{43,128}$/);
  const tokens = await ex.body;
  assert.equal(typeof tokens.access_token, "string");
  return { tokens, form: ex.form, state: authParams.get("state"), nonce: authParams.get("nonce") };
}

e2e("Go-WASM demo: sign in on /go/, GET /api/me through pkce.HTTPClient with the Bearer token", async (s) => {
  const { page, context } = s;
  const { tokens, form, state, nonce } = await signInGo(s);
  const claims = jwtPayload(tokens.id_token);
  assert.match(await page.locator("#status").textContent(), /^Signed in as \S/);
  assert.equal(JSON.parse(await page.locator("#claims").textContent()).sub, claims.sub, "claims shown");

  await page.click("#call-api");
  await page.locator("#api-result[data-status]:not([data-status=''])").waitFor();
  assert.equal(await page.locator("#api-result").getAttribute("data-status"), "200", await page.locator("#api-result").textContent());
  const body = JSON.parse(await page.locator("#api-result").textContent());
  assert.equal(body.sub, claims.sub, "/api/me answers for the signed-in user");

  const apiReqs = s.requests.filter((r) => bareURL(r.url) === `${server.appOrigin}/api/me`);
  assert.equal(apiReqs.length, 1, "one /api/me request");
  const headers = await apiReqs[0].request.allHeaders();
  assert.equal(headers.authorization, `Bearer ${tokens.access_token}`, "/api/me carried the access token");
  assert.equal(s.tokenExchanges.length, 1, "no refresh for a fresh token");

  // Containment: no token (or its signature) in storage, cookies, the URL, history, the DOM or the console.
  const secrets = { access_token: tokens.access_token, id_token: tokens.id_token };
  if (tokens.refresh_token) secrets.refresh_token = tokens.refresh_token;
  for (const [k, v] of Object.entries({ ...secrets })) {
    const parts = v.split(".");
    if (parts.length === 3 && parts[2].length >= 16) secrets[`${k} signature`] = parts[2];
  }
  const assertClean = (where, text) => {
    for (const [name, value] of Object.entries(secrets)) assert.ok(!String(text).includes(value), `${name} found in ${where}`);
  };
  const storage = await page.evaluate(() => {
    const dump = (st) => Object.fromEntries(Array.from({ length: st.length }, (_, i) => st.key(i)).map((k) => [k, st.getItem(k)]));
    return { local: dump(localStorage), session: dump(sessionStorage) };
  });
  assertClean("localStorage", JSON.stringify(storage.local));
  assertClean("sessionStorage", JSON.stringify(storage.session));
  for (const [k, v] of Object.entries(storage.session)) {
    assert.ok(!k.startsWith("pkce-wasm.tx."), `pending transaction left in sessionStorage: ${k}`);
    for (const [name, secret] of Object.entries({ code_verifier: form.get("code_verifier"), state, nonce })) {
      if (secret) assert.ok(!k.includes(secret) && !String(v).includes(secret), `${name} left in sessionStorage (${k})`);
    }
  }
  const cookies = await context.cookies([server.appOrigin, new URL(server.config.issuer).origin]);
  assertClean("cookies", JSON.stringify([...cookies, ...(await context.cookies())]));
  assertClean("storageState", JSON.stringify(await context.storageState()));
  assertClean("page.url()", page.url());
  assert.ok(!/[?&#](code|state)=/.test(page.url()), `callback parameters left in the URL: ${redactURL(page.url())}`);
  for (const r of s.requests) assertClean(`request URL ${redactURL(r.url)}`, r.url);
  assertClean("history.state", JSON.stringify(await page.evaluate(() => history.state)));
  assertClean("the DOM", await page.content());
  assertClean("console output", s.consoleLines.join("\n"));
});

e2e("Go-WASM demo: signed out, /api/me goes without a token and answers 401; logout returns to /go/", async (s) => {
  const { page } = s;
  await page.goto(`${server.appOrigin}/go/`);
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  await page.click("#call-api");
  await page.locator("#api-result[data-status]:not([data-status=''])").waitFor();
  assert.equal(await page.locator("#api-result").getAttribute("data-status"), "401");
  const req = s.requests.find((r) => bareURL(r.url) === `${server.appOrigin}/api/me`);
  assert.ok(req, "the /api/me request was seen");
  assert.equal((await req.request.allHeaders()).authorization, undefined, "no Authorization header while signed out");

  await signInGo(s);
  const backOnGo = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin && u.pathname === "/go/");
  await page.click("#logout");
  await backOnGo;
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  const endSession = s.requests.find((r) => r.navigation && bareURL(r.url) === server.discovery.end_session_endpoint);
  assert.ok(endSession, "RP-initiated logout at the OP");
  assert.equal(endSession.method, "POST", "logout is a form POST (id_token_hint stays out of the URL)");
  assert.ok(!/id_token_hint/.test(endSession.url), "no id_token_hint in the end_session URL");
});
