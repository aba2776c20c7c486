// The classic-script include, in every browser of BROWSERS (Chromium, Firefox, WebKit): a plain
// HTML page with <script src="/pkce/pkce-wasm.iife.js"> (window.PkceWasm, the default worker
// isolation; the worker and pkce.wasm sit beside the script, not beside the page) signs in through
// the OP, comes back signed in, calls the protected API through auth.fetch and signs out.
//
// Prerequisites: `make build` (js/dist with pkce-wasm.iife.js and the self-contained worker;
// bin/devserver). Env: IIFE_APP_PORT / IIFE_OP_PORT (18580/19590), BROWSERS.
//
// The dev server runs with -root at a temporary root whose demo/ holds only the fixture page
// (test/fixtures/iife/index.html), so that / and /callback (the registered redirect URI) serve it,
// and whose js/dist (/pkce/) is a link to js/dist. What the client sent is read from the server's
// records (/__test/requests, /__test/issued, /__test/stats), never from network events, which
// WebDriver does not have; tokens are compared there and never printed.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, cp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  JS_DIR,
  PASSWORD,
  USERNAME,
  assertNoTokens,
  forEachBrowser,
  latestTokens,
  navigateAndWait,
  startServer,
  waitReady,
  withSession,
} from "./harness.mjs";

const APP_PORT = Number(process.env.IIFE_APP_PORT || 18580);
const OP_PORT = Number(process.env.IIFE_OP_PORT || 19590);
const TEST_TIMEOUT_MS = 90_000;

let tmp;
let server;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "pkce-wasm-iife-"));
  await cp(path.join(JS_DIR, "test", "fixtures", "iife"), path.join(tmp, "demo"), { recursive: true });
  await mkdir(path.join(tmp, "js"));
  await symlink(path.join(JS_DIR, "dist"), path.join(tmp, "js", "dist"));
  server = await startServer({ appPort: APP_PORT, opPort: OP_PORT, extraArgs: ["-root", tmp] });
});

after(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The paths the app origin served, from the server's access log lines. */
const appPaths = (log) => [...log.matchAll(/msg=app method=GET path=(\S+)/g)].map((m) => m[1]);
const opRequests = (stats, endpoint) => stats.requests?.[new URL(endpoint).pathname] ?? 0;

// Browser-independent: how /pkce/ serves the module the worker instantiates.
test("IIFE: pkce.wasm at /pkce/ is served precompressed, as application/wasm, with an ETag", async (t) => {
  const res = await fetch(`${server.appOrigin}/pkce/pkce.wasm`, { headers: { "Accept-Encoding": "br, gzip" } });
  const h = Object.fromEntries(res.headers);
  await res.arrayBuffer();
  assert.equal(h["content-type"], "application/wasm");
  assert.ok(["br", "gzip"].includes(h["content-encoding"]), `pkce.wasm Content-Encoding ${h["content-encoding"]}`);
  t.diagnostic(`pkce.wasm is served with Content-Encoding ${h["content-encoding"]}`);
  assert.match(h["etag"] || "", /^"[0-9a-f]{32}"$/);
  assert.equal(h["cache-control"], "no-cache");
});

forEachBrowser((name, browser) => {
  test(`[${name}] IIFE: <script src=/pkce/pkce-wasm.iife.js> signs in through the OP, auth.fetch /api/me → 200 with the OP's token, logs out`, { timeout: TEST_TIMEOUT_MS }, (t) =>
    withSession(t, server, browser(), async ({ page }) => {
      const mark = server.mark();
      await page.goto(`${server.appOrigin}/`);
      await waitReady(page);
      assert.equal(await page.evaluate(() => document.body.dataset.error ?? null), null, "no error while loading");
      assert.equal(await page.evaluate(() => document.body.dataset.badConfig), "invalid_config", "bad options reject with a PkceWasm.PkceWasmError");
      assert.deepEqual(await page.evaluate(() => Object.keys(window.PkceWasm).sort()), ["PkceWasmError", "create", "isCallback"]);
      await page.waitForSelector('#status[data-state="signed-out"]');
      // The default isolation: a SharedWorker, and a dedicated Worker per tab on WebKit (README, "Browsers").
      assert.equal(await page.evaluate(() => window.auth.runsIn), name === "webkit" ? "worker" : "shared-worker", "auth.runsIn");

      // Worker isolation: the worker and the WASM resolved against the script's URL (/pkce/), not
      // the page's, and the WASM was fetched by the worker, not by the page (the page's Resource
      // Timing does not list it; the server's access log does).
      const served = appPaths(server.logSince(mark));
      assert.ok(served.includes("/pkce/pkce-wasm.worker.js"), `the worker came from /pkce/: ${served}`);
      assert.ok(served.includes("/pkce/pkce.wasm"), `pkce.wasm came from /pkce/: ${served}`);
      const pageFetched = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
      assert.ok(pageFetched.includes("/pkce/pkce-wasm.iife.js"), `the page loaded the script: ${pageFetched}`);
      assert.ok(!pageFetched.includes("/pkce/pkce.wasm"), `the page itself did not load pkce.wasm (worker mode): ${pageFetched}`);

      // Sign in at the OP's login form; the OP redirects to /callback, the same page.
      const issuerOrigin = new URL(server.config.issuer).origin;
      const stats0 = await server.stats();
      await page.click("#login");
      await page.waitForURL((u) => u.origin === issuerOrigin);
      await page.fill("#username", USERNAME);
      await page.fill("#password", PASSWORD);
      await navigateAndWait(page, () => page.click("#sign-in"));
      assert.equal(await page.evaluate(() => document.body.dataset.error ?? null), null, "no error after the callback");
      await page.waitForSelector('#status[data-state="signed-in"]');
      const back = new URL(await page.url());
      assert.deepEqual([back.origin, back.pathname, back.search], [server.appOrigin, "/", ""], "back at returnTo, code and state gone");
      const stats1 = await server.stats();
      assert.equal(stats1.grants.authorization_code - stats0.grants.authorization_code, 1, "exactly one authorization_code grant at the OP");

      // The protected API through the wrapped fetch: 200, with the access token the OP issued.
      await server.resetAPIRequests();
      const me = await page.evaluate(async () => {
        const res = await window.auth.fetch("/api/me");
        return { status: res.status, sub: res.ok ? (await res.json()).sub : null, user: (await window.auth.getUser()).sub };
      });
      assert.equal(me.status, 200, "auth.fetch('/api/me')");
      assert.equal(me.sub, me.user, "/api/me answers for the signed-in user");
      const calls = (await server.apiRequests()).filter((r) => r.path === "/api/me");
      assert.equal(calls.length, 1, "one /api/me request reached the server");
      const { access_token: issued } = await latestTokens(server);
      assert.ok(issued, "the OP issued an access token");
      // A boolean assertion: the token must not appear in a failure message.
      assert.ok(calls[0].authorization === `Bearer ${issued}`, "/api/me got `Bearer <the access token the OP issued>`");
      assertNoTokens("the page's HTML", await page.content());

      // Sign out: tokens revoked, RP-initiated logout at the OP's end_session, back at / signed out.
      const endSession = server.discovery.end_session_endpoint;
      const revocation = server.discovery.revocation_endpoint;
      await navigateAndWait(page, () => page.click("#logout"));
      await page.waitForSelector('#status[data-state="signed-out"]');
      const stats2 = await server.stats();
      assert.equal(opRequests(stats2, endSession) - opRequests(stats1, endSession), 1, `logout went through ${endSession}`);
      assert.ok(opRequests(stats2, revocation) - opRequests(stats1, revocation) >= 1, `the tokens were revoked at ${revocation}`);
      assert.ok((await page.url()).startsWith(`${server.appOrigin}/`), "back on the app");
      const after = await page.evaluate(async () => ({ signedIn: await window.auth.isAuthenticated(), status: (await window.auth.fetch("/api/me")).status }));
      assert.deepEqual(after, { signedIn: false, status: 401 }, "signed out: /api/me goes without a token");
    }),
  );
});
