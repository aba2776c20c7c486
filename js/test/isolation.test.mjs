// Isolation: the client runs in a worker, and no page script can obtain a token. Once per browser
// of BROWSERS (Chromium, Firefox, WebKit; see browsers.mjs).
//
// The injected-script suite: the dev server (-test-hooks, server/inject.go) puts injected.mjs's
// HOOKS first in every HTML page of the app — before the app's own code, on every navigation: the
// strongest position a page script can have, without a driver's init scripts, which classic
// WebDriver lacks. The hooks report everything they see to the server's record
// (/__test/inject/seen). A second same-origin page that never loads the library attacks from
// there (BroadcastChannels, the SharedWorker's port, forged sessions). The walk: sign-in, API
// calls, UserInfo, a refresh through a 401 invalid_token retry, the attack, logout. Then the test
// asks the OP which tokens it issued (/__test/issued) and looks for each of them — and each JWT's
// signature — in everything the injected code and the attacker saw. Worker mode (a SharedWorker;
// on WebKit the client's dedicated Worker) and dedicated-worker mode (SharedWorker removed by the
// hooks) must show none; the same walk with isolation "page" must find some: that shows the
// suite can detect a leak, in each browser.
//
// Also here: bodies through auth.fetch (10 MB down, 5 MB up, streaming), Response details, a
// missing worker script. Killing the worker needs CDP: isolation-cdp.test.mjs (Chromium only).
//
// Env: ISOLATION_APP_PORT / ISOLATION_OP_PORT (18480/19490), BROWSERS.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { attemptSignIn, forEachBrowser, latestTokens, navigateAndWait, startServer, withSession } from "./harness.mjs";
import { attackerArgs, attackerPage, hooksScript } from "./injected.mjs";

const TEST_TIMEOUT_MS = 120_000;

let server;

before(async () => {
  server = await startServer({
    appPort: Number(process.env.ISOLATION_APP_PORT || 18480),
    opPort: Number(process.env.ISOLATION_OP_PORT || 19490),
  });
});

after(async () => {
  await server?.stop();
});

const libraryChannel = () => `pkce-wasm:${server.config.issuer}|${server.config.clientId}`;

// issuedSecrets lists every token the OP issued, and the signature part of each JWT (a fingerprint
// that survives re-encoding of header and payload).
async function issuedSecrets() {
  const out = [];
  for (const t of await server.issued()) {
    out.push({ name: t.kind, value: t.value });
    const parts = t.value.split(".");
    if (parts.length === 3 && parts[2].length >= 16) out.push({ name: `${t.kind} signature`, value: parts[2] });
  }
  return out;
}

// found names the secrets that occur in lines, and where (the hook's label, never the value).
function found(secrets, lines) {
  const hits = [];
  for (const { name, value } of secrets) {
    const line = lines.find((l) => l.includes(value));
    if (line) hits.push({ name, where: line.slice(0, line.indexOf(":")) });
  }
  return hits;
}

// hooksSaw flushes the open page's hooks and returns the server's record, after checking that it is
// whole: nothing dropped, the open page's lines all arrived, and lines came from several page loads
// (so the injection and the reporting worked across navigations).
async function hooksSaw(page, { minPages }) {
  const [n, id, lost, error] = await page.evaluate(() => window.__flushHooks().then((n) => [n, window.__hooksPage, window.__hooksLost || 0, window.__hooksError || ""]));
  assert.equal(lost, 0, `the open page's hooks could not report ${lost} lines: ${error}`);
  const rec = await server.injectSeen();
  assert.equal(rec.truncated, false, "the server kept every line");
  assert.equal(rec.rejected, 0, "every report of the hooks was readable");
  assert.ok(rec.pages[id] >= n, `every line the open page's hooks saw reached the record (${rec.pages[id]} of ${n})`);
  assert.ok(Object.keys(rec.pages).length >= minPages, `the hooks ran in ${Object.keys(rec.pages).length} page loads, want at least ${minPages}`);
  return rec.lines;
}

// walk runs the user's day with the hooks in every page: sign in, call the API and UserInfo, a
// refresh (a 401 invalid_token makes the client refresh and retry), an attack from a second page,
// beforeLogout (e.g. a second tab), and logout. Returns what the attacker got.
// mode: where the app's client runs — "shared" (SharedWorker), "dedicated" (a Worker per tab), "page".
async function walk(s, { query = "", mode, beforeLogout } = {}) {
  const { page, context } = s;
  const r = await attemptSignIn(s, server, { query });
  assert.equal(r.errorCode, "", `sign-in failed: ${r.errorText}`);
  await page.waitForSelector('#status[data-state="signed-in"]');
  assert.equal(await page.evaluate(() => typeof window.__flushHooks), "function", "the hooks run in the app's page");
  assert.equal(await page.evaluate(() => window.__hooksFirst), true, "the hooks ran before any other script of the page");
  await page.click("#call-api");
  await page.waitForSelector('#api-result[data-status="200"]');
  const refreshes = (await server.stats()).grants.refresh_token;
  const flow = await page.evaluate(async () => {
    const flaky = await window.auth.fetch("/api/flaky?id=iso-" + Math.random() + "&fail=1");
    const info = await window.auth.getUserInfo().then(() => "ok", (e) => e.code);
    return { flaky: flaky.status, info };
  });
  assert.deepEqual(flow, { flaky: 200, info: "ok" }, "the 401 was followed by a refresh and a successful retry; UserInfo answered");
  assert.equal((await server.stats()).grants.refresh_token, refreshes + 1, "one refresh grant");

  const other = await context.newPage();
  await other.goto(`${server.appOrigin}/config.json`);
  const args = await attackerArgs(other); // everything the attacker needs is public
  const forgedIdToken = ["eyJhbGciOiJub25lIn0", Buffer.from(JSON.stringify({ iss: server.config.issuer, aud: server.config.clientId, sub: "mallory", exp: 4102444800, iat: 1 })).toString("base64url"), ""].join(".");
  const attacker = await attackerPage(other, { ...args, channelNames: ["pkce-wasm:callback", libraryChannel()], forgedIdToken });
  await other.close();
  checkAttack(attacker.results, mode);
  // Nothing the attacker posted changed the session.
  const user = await page.evaluate(() => window.auth.getUser());
  assert.notEqual(user && user.sub, "mallory", "a forged session was adopted");
  assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), true, "still signed in after the attack");
  const meBefore = (await server.apiRequests()).length;
  assert.equal(await page.evaluate(() => window.auth.fetch("/api/me").then((r) => r.status)), 200);
  const me = (await server.apiRequests()).slice(meBefore).filter((x) => x.path === "/api/me");
  const tokens = await latestTokens(server);
  assert.ok(me.length >= 1, "the API call after the attack reached the API");
  // (assert.ok, not equal: a failure must not print a token.)
  assert.ok(me.at(-1).authorization === `Bearer ${tokens.access_token}`, "the API still gets the OP's latest token, not a forged one");

  await page.evaluate(() => window.__snapshot());
  if (beforeLogout) await beforeLogout();
  await navigateAndWait(page, () => page.click("#logout"));
  await page.waitForSelector('#status[data-state="signed-out"]');
  return attacker;
}

// checkAttack: what the second page got from the SharedWorker it opened with the app's URL and
// name. Where the app runs a SharedWorker that is the app's own; elsewhere (WebKit, SharedWorker
// removed, page mode) it is a new, empty one: the app's client is out of the attacker's reach.
function checkAttack(r, mode) {
  assert.equal(r.callBeforeInit?.error?.code, "invalid_config", "commands before init are refused");
  assert.equal(r.widened?.t, "initError", "a port cannot widen the worker's configuration");
  assert.equal(r.init?.t, "ready", "a same-origin page can connect with the app's configuration");
  assert.ok(r.getAccessToken?.error, "getAccessToken is not served without exposeAccessToken");
  assert.ok(r.planted?.error, "no command plants a session");
  assert.equal(r.forgedCallback?.error?.code, "state_mismatch", "a forged callback is refused");
  if (mode === "shared") {
    assert.equal(r.isAuthenticated?.value, true, "the attacker reached the app's signed-in SharedWorker");
    assert.equal(r.proxiedStatus, 200, "proxying through the worker works (documented; no browser-only client prevents it)");
  } else {
    assert.equal(r.isAuthenticated?.value, false, "the attacker's SharedWorker is not the app's client: no session in it");
    assert.equal(r.proxiedStatus, 401, "nothing to proxy through: the app's session is out of reach");
  }
}

forEachBrowser((name, browser) => {
  const iso = (title, fn) =>
    test(`[${name}] ${title}`, { timeout: TEST_TIMEOUT_MS }, (t) => withSession(t, server, browser(), (s) => fn(s, t)));
  // WebKit runs the client in a dedicated Worker per tab (js/src/pkce-wasm.js, webKitEngine).
  const workerMode = name === "webkit" ? "dedicated" : "shared";

  iso(`injected scripts see no token in worker mode (${workerMode === "shared" ? "SharedWorker" : "dedicated Worker"}): sign-in, API, refresh, attack, logout`, async (s) => {
    await server.inject(hooksScript({ channelNames: [libraryChannel()] }));
    const attacker = await walk(s, { mode: workerMode });
    const lines = await hooksSaw(s.page, { minPages: 3 }); // the app, the callback, the app after logout
    const secrets = await issuedSecrets();
    assert.ok(secrets.filter((x) => !x.name.endsWith("signature")).length >= 6, `the OP issued tokens, a refresh included (${secrets.length} strings)`);
    const hits = found(secrets, [...lines, ...attacker.seen]);
    assert.deepEqual(hits, [], `page scripts saw tokens: ${JSON.stringify(hits)}`);
    assert.ok(lines.length > 100, `the hooks recorded what the page did (${lines.length} lines)`);
    console.log(`[${name}] worker mode: ${secrets.length} token strings issued, ${lines.length + attacker.seen.length} strings seen by page scripts, 0 tokens among them`);
  });

  iso("dedicated-worker mode (no SharedWorker): no token seen; two tabs sign in on their own, a logout signs both out (token-free signal)", async (s) => {
    await server.inject(hooksScript({ channelNames: [libraryChannel()], removeSharedWorker: true }));
    let tab2;
    const attacker = await walk(s, {
      mode: "dedicated",
      beforeLogout: async () => {
        assert.equal(await s.page.evaluate(() => typeof SharedWorker), "undefined", "the app ran without SharedWorker");
        tab2 = await s.context.newPage();
        await tab2.goto(`${server.appOrigin}/?silent=0`); // the demo's own silent sign-in would sign it in
        await tab2.waitForSelector('#status[data-state="signed-out"]');
        assert.equal(await tab2.evaluate(() => window.auth.isAuthenticated()), false, "tab 2 starts signed out: no session crosses tabs");
        // Tab 2 signs in on its own (the OP's login session skips the form).
        const grants = (await server.stats()).grants.authorization_code;
        await navigateAndWait(tab2, () => tab2.click("#login"));
        await tab2.waitForSelector('#status[data-state="signed-in"]');
        assert.equal((await server.stats()).grants.authorization_code, grants + 1, "tab 2 made its own code exchange");
        await tab2.evaluate(() => {
          window.__out = [];
          window.auth.on("signedOut", (d) => window.__out.push(d.reason));
        });
      },
    });
    // The logout in tab 1 reached tab 2 as the token-free signal.
    await tab2.waitForFunction(() => window.__out.includes("other_tab"));
    assert.equal(await tab2.evaluate(() => window.auth.isAuthenticated()), false, "tab 2 signed out too");
    await tab2.evaluate(() => window.__snapshot());
    await hooksSaw(tab2, { minPages: 5 }); // tab 2's pages: the app, the callback
    const lines = await hooksSaw(s.page, { minPages: 5 });
    const secrets = await issuedSecrets();
    const hits = found(secrets, [...lines, ...attacker.seen]);
    assert.deepEqual(hits, [], `page scripts saw tokens: ${JSON.stringify(hits)}`);
    assert.ok(lines.length > 100, `the hooks recorded what the pages did (${lines.length} lines)`);
    console.log(`[${name}] dedicated-worker mode: ${secrets.length} token strings issued, ${lines.length + attacker.seen.length} strings seen by page scripts, 0 tokens among them`);
  });

  iso('contrast: with isolation "page" the same hooks do find tokens (the suite detects leaks)', async (s) => {
    await server.inject(hooksScript({ channelNames: [libraryChannel()] }));
    await walk(s, { query: "?isolation=page", mode: "page" });
    const lines = await hooksSaw(s.page, { minPages: 3 });
    const secrets = await issuedSecrets();
    const hits = found(secrets, lines);
    assert.ok(hits.length > 0, "in-page mode leaks to hooked globals, and the suite must see it");
    const kinds = new Set(hits.map((h) => h.name.replace(/ signature$/, "")));
    assert.ok(kinds.has("access_token") && kinds.has("refresh_token"), `the hooks saw access and refresh tokens (saw: ${[...kinds]})`);
    const paths = [...new Set(lines.filter((l) => secrets.some((x) => l.includes(x.value))).map((l) => l.slice(0, l.indexOf(":"))))].sort();
    console.log(`[${name}] page mode: ${hits.length} of ${secrets.length} token strings seen, through: ${paths.join("; ")}`);
  });

  iso("bodies: a 10 MB response streams through the worker intact, a 5 MB request body arrives intact", async (s) => {
    const { page } = s;
    const r = await attemptSignIn(s, server);
    assert.equal(r.errorCode, "", `sign-in failed: ${r.errorText}`);
    await page.waitForSelector('#status[data-state="signed-in"]');
    const down = await page.evaluate(async () => {
      const t0 = performance.now();
      const res = await window.auth.fetch("/api/stream?bytes=10485760&pauseMs=1500");
      const reader = res.body.getReader();
      const first = await reader.read();
      const tFirst = performance.now();
      const chunks = [first.value];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
      }
      const tEnd = performance.now();
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      const hash = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", all)), (b) => b.toString(16).padStart(2, "0")).join("");
      return { bytes: all.length, hash, firstMs: tFirst - t0, endMs: tEnd - t0, status: res.status, type: res.headers.get("content-type") };
    });
    const expected = Buffer.alloc(10 << 20);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 7) % 251;
    assert.equal(down.status, 200);
    assert.equal(down.bytes, expected.length, "10 MB arrived");
    assert.equal(down.hash, createHash("sha256").update(expected).digest("hex"), "SHA-256 of the response body");
    assert.ok(down.endMs - down.firstMs > 1000, `the first bytes arrived before the last were sent (first ${down.firstMs.toFixed(0)} ms, end ${down.endMs.toFixed(0)} ms)`);

    const up = await page.evaluate(async () => {
      const body = new Uint8Array(5 << 20);
      for (let i = 0; i < body.length; i++) body[i] = (i * 13) % 256;
      const res = await window.auth.fetch("/api/upload", { method: "PUT", body, headers: { "Content-Type": "application/octet-stream" } });
      return res.json();
    });
    const sent = Buffer.alloc(5 << 20);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 13) % 256;
    assert.equal(up.bytes, sent.length, "5 MB arrived");
    assert.equal(up.sha256, createHash("sha256").update(sent).digest("hex"), "SHA-256 of the request body");
    assert.equal(up.contentType, "application/octet-stream");
    assert.equal(up.authorization, true, "the upload carried the token");
  });

  iso("Response details through the worker: url, redirected, null-body statuses, headers, abort", async (s) => {
    const { page } = s;
    const signIn = await attemptSignIn(s, server);
    assert.equal(signIn.errorCode, "", `sign-in failed: ${signIn.errorText}`);
    await page.waitForSelector('#status[data-state="signed-in"]');
    const r = await page.evaluate(async () => {
      const out = {};
      const me = await window.auth.fetch("/api/me");
      out.me = { url: me.url, redirected: me.redirected, type: me.type, ok: me.ok, ct: me.headers.get("content-type") };
      const redir = await window.auth.fetch("/api/redirect?to=" + encodeURIComponent("/api/echo"));
      out.redir = { url: redir.url, redirected: redir.redirected, status: redir.status };
      const noContent = await window.auth.fetch("/api/upload", { method: "OPTIONS" });
      out.noContent = { status: noContent.status, body: noContent.body };
      const ac = new AbortController();
      const p = window.auth.fetch("/api/stream?bytes=1000&pauseMs=3000", { signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      out.abort = await p.then((res) => res.text()).then(() => "not aborted", (e) => e.name);
      return out;
    });
    assert.equal(r.me.url, `${server.appOrigin}/api/me`);
    assert.equal(r.me.redirected, false);
    assert.equal(r.me.type, "basic");
    assert.equal(r.me.ok, true);
    assert.match(r.me.ct || "", /application\/json/);
    assert.equal(r.noContent.status, 204);
    assert.equal(r.noContent.body, null, "a 204 has a null body");
    assert.equal(r.abort, "AbortError", "init.signal aborts the request");
    if (r.redir.status !== 404) {
      assert.equal(r.redir.redirected, true, "redirected is carried over");
    }
  });

  iso("failure: a missing worker script rejects create with worker_failed", async (s) => {
    const { page } = s;
    await page.goto(`${server.appOrigin}/config.json`);
    const res = await page.evaluate(async () => {
      const cfg = await (await fetch("/config.json")).json();
      const { PkceWasm } = await import("/pkce/pkce-wasm.js");
      try {
        await PkceWasm.create({ ...cfg, workerUrl: "/pkce/missing-worker.js" });
        return { ok: true };
      } catch (e) {
        return { code: e.code };
      }
    });
    assert.equal(res.code, "worker_failed");
  });
});
