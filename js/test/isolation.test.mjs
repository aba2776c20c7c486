// Isolation: the client runs in a worker, and no page script can obtain a token.
//
// The injected-script suite installs js/test/injected.mjs's HOOKS in every page of the app (before
// the app's own code: the strongest position a page script can have), opens a second same-origin
// page that never loads the library and attacks from there (BroadcastChannels, the SharedWorker's
// port, forged sessions), and walks sign-in, API calls, a refresh and logout. Then it asks the OP
// which tokens it issued and looks for each of them in everything the injected code saw.
// The same walk with isolation "page" must find tokens: that shows the suite can detect a leak.
//
// Also here: dedicated-worker mode (SharedWorker removed), bodies through auth.fetch (10 MB down,
// 5 MB up, streaming), Response details, and failures (worker script missing, worker killed).

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createHash } from "node:crypto";
// Chromium only: it needs init scripts, exposed bindings and CDP (to kill the worker), which
// classic WebDriver lacks; the worker paths it checks are the same code in every browser.
import { CHROMIUM_SKIP, attemptSignIn, chromiumTest as test, launchBrowser, latestTokens, startServer, waitReady, withSession } from "./playwright-harness.mjs";
import { HOOKS, attackerArgs, attackerPage } from "./injected.mjs";

const TEST_TIMEOUT_MS = 120_000;

let server;
let browser;

before(async () => {
  if (CHROMIUM_SKIP) return;
  server = await startServer({
    appPort: Number(process.env.ISOLATION_APP_PORT || 18480),
    opPort: Number(process.env.ISOLATION_OP_PORT || 19490),
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const iso = (name, fn) => test(name, { timeout: TEST_TIMEOUT_MS }, (t) => withSession(t, server, browser, (s) => fn(s, t)));

// installSpy puts HOOKS into every page of the session's context and collects what they see.
async function installSpy(s, { removeSharedWorker = false } = {}) {
  const seen = [];
  await s.context.exposeFunction("__pkceSpy", (line) => { seen.push(String(line)); });
  const channels = [`pkce-wasm:${server.config.issuer}|${server.config.clientId}`];
  if (removeSharedWorker) await s.context.addInitScript("delete window.SharedWorker;");
  await s.context.addInitScript(`window.__channelNames = ${JSON.stringify(channels)};\n${HOOKS}`);
  return { seen, channels };
}

// secretsOf lists every token the OP issued, and the signature part of each JWT (a fingerprint).
async function issuedSecrets() {
  const out = [];
  for (const t of await server.issued()) {
    out.push({ name: t.kind, value: t.value });
    const parts = t.value.split(".");
    if (parts.length === 3 && parts[2].length >= 16) out.push({ name: `${t.kind} signature`, value: parts[2] });
  }
  return out;
}

function found(secrets, lines) {
  const hits = [];
  for (const { name, value } of secrets) {
    const line = lines.find((l) => l.includes(value));
    if (line) hits.push({ name, where: line.slice(0, line.indexOf(":")) });
  }
  return hits;
}

async function signInThroughDemo(s, path = "/") {
  const r = await attemptSignIn(s, server, path);
  assert.equal(r.errorCode, "", `sign-in failed: ${r.errorText}`);
  await s.page.locator('#status[data-state="signed-in"]').waitFor();
}

// walk runs the user's day: sign in, call the API, a refresh (a 401 invalid_token makes the client
// refresh and retry), an attack from a second page, and logout. Returns what the attacker got.
async function walk(s, { query = "", attack = true } = {}) {
  const { page } = s;
  await signInThroughDemo(s, `/${query}`);
  await page.click("#call-api");
  await page.locator('#api-result[data-status="200"]').waitFor();
  const before = (await server.stats()).grants.refresh_token;
  const flaky = await page.evaluate(() => window.auth.fetch("/api/flaky?id=iso-" + Math.random() + "&fail=1").then((r) => r.status));
  assert.equal(flaky, 200, "the 401 was followed by a refresh and a successful retry");
  assert.equal((await server.stats()).grants.refresh_token, before + 1, "one refresh grant");

  let attacker = null;
  if (attack) {
    const other = await s.context.newPage();
    await other.goto(`${server.appOrigin}/config.json`);
    const args = await attackerArgs(other); // everything the attacker needs is public
    const forgedIdToken = ["eyJhbGciOiJub25lIn0", Buffer.from(JSON.stringify({ iss: server.config.issuer, aud: server.config.clientId, sub: "mallory", exp: 4102444800, iat: 1 })).toString("base64url"), ""].join(".");
    attacker = await attackerPage(other, { ...args, channelNames: ["pkce-wasm:callback", `pkce-wasm:${server.config.issuer}|${server.config.clientId}`], forgedIdToken });
    await other.close();
    // Nothing the attacker posted changed the session.
    const user = await page.evaluate(() => window.auth.getUser());
    assert.notEqual(user && user.sub, "mallory", "a forged session was adopted");
    assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), true);
    const meBefore = (await server.apiRequests()).length;
    assert.equal(await page.evaluate(() => window.auth.fetch("/api/me").then((r) => r.status)), 200);
    const me = (await server.apiRequests()).slice(meBefore).filter((r) => r.path === "/api/me");
    const tokens = await latestTokens(server);
    assert.ok(me.length >= 1, "the API call after the attack reached the API");
    assert.equal(me.at(-1).authorization, `Bearer ${tokens.access_token}`, "the API still gets the OP's token, not a forged one");
  }
  await page.evaluate(() => window.__snapshot && window.__snapshot());
  await page.click("#logout");
  await page.waitForURL((u) => u.origin === server.appOrigin && !u.pathname.startsWith("/callback"), { timeout: 20_000 });
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  return attacker;
}

iso("injected scripts see no token in worker mode (SharedWorker): sign-in, API, refresh, attack, logout", async (s) => {
  const spy = await installSpy(s);
  const attacker = await walk(s);
  const secrets = await issuedSecrets();
  assert.ok(secrets.filter((x) => !x.name.endsWith("signature")).length >= 4, `the OP issued tokens (${secrets.length})`);
  const hits = found(secrets, [...spy.seen, ...attacker.seen]);
  assert.deepEqual(hits, [], `page scripts saw tokens: ${JSON.stringify(hits)}`);
  assert.ok(spy.seen.length > 100, `the hooks recorded what the page did (${spy.seen.length} lines)`);

  const r = attacker.results;
  assert.equal(r.callBeforeInit.error?.code, "invalid_config", "commands before init are refused");
  assert.equal(r.widened.t, "initError", "a port cannot widen the worker's configuration");
  assert.equal(r.init.t, "ready", "a same-origin page can connect with the app's configuration");
  assert.ok(r.getAccessToken.error, "getAccessToken is not served without exposeAccessToken");
  assert.ok(r.planted.error, "no command plants a session");
  assert.equal(r.forgedCallback.error?.code, "state_mismatch", "a forged callback is refused");
  assert.equal(r.proxiedStatus, 200, "proxying through the worker works (documented; no browser-only client prevents it)");
  console.log(`worker mode: ${secrets.length} token strings issued, ${spy.seen.length + attacker.seen.length} strings seen by page scripts, 0 tokens among them`);
});

iso("injected scripts see no token in dedicated-worker mode (no SharedWorker); no token crosses tabs", async (s) => {
  const spy = await installSpy(s, { removeSharedWorker: true });
  const attacker = await walk(s);
  assert.equal(await s.page.evaluate(() => typeof SharedWorker), "undefined", "the app ran without SharedWorker");
  const secrets = await issuedSecrets();
  const hits = found(secrets, [...spy.seen, ...attacker.seen]);
  assert.deepEqual(hits, [], `page scripts saw tokens: ${JSON.stringify(hits)}`);
  console.log(`dedicated-worker mode: ${secrets.length} token strings issued, 0 seen by page scripts`);
});

iso('contrast: with isolation "page" the same hooks do find tokens (the suite detects leaks)', async (s) => {
  const spy = await installSpy(s);
  await walk(s, { query: "?isolation=page", attack: true });
  const secrets = await issuedSecrets();
  const hits = found(secrets, spy.seen);
  assert.ok(hits.length > 0, "in-page mode leaks to hooked globals, and the suite must see it");
  const paths = [...new Set(spy.seen.filter((l) => secrets.some((x) => l.includes(x.value))).map((l) => l.slice(0, l.indexOf(":"))))].sort();
  console.log(`page mode: ${hits.length} of ${secrets.length} token strings seen, through: ${paths.join("; ")}`);
});

iso("dedicated-worker mode, two tabs: each signs in on its own, a logout signs both out (token-free signal), no token seen", async (s) => {
  const spy = await installSpy(s, { removeSharedWorker: true });
  await signInThroughDemo(s);
  const tab2 = await s.context.newPage();
  await tab2.goto(`${server.appOrigin}/?silent=0`); // the demo's own silent sign-in would sign it in
  await waitReady(tab2);
  assert.equal(await tab2.evaluate(() => typeof SharedWorker), "undefined");
  // Its own worker: no session crossed over from tab 1.
  await tab2.locator('#status[data-state="signed-out"]').waitFor();
  assert.equal(await tab2.evaluate(() => window.auth.isAuthenticated()), false, "tab 2 starts signed out: no session crosses tabs");
  // Tab 2 signs in on its own (the OP's login session skips the form).
  const grants = (await server.stats()).grants.authorization_code;
  await tab2.click("#login");
  await tab2.locator('#status[data-state="signed-in"]').waitFor();
  assert.equal((await server.stats()).grants.authorization_code, grants + 1, "tab 2 made its own code exchange");
  await tab2.evaluate(() => { window.__out = []; window.auth.on("signedOut", (d) => window.__out.push(d.reason)); });
  // Logout in tab 1 (local, to stay on the page): tab 2 hears the token-free signal.
  await s.page.evaluate(() => window.auth.logout({ localOnly: true }));
  await tab2.waitForFunction(() => window.__out.includes("other_tab"));
  assert.equal(await tab2.evaluate(() => window.auth.isAuthenticated()), false, "tab 2 signed out too");
  const hits = found(await issuedSecrets(), spy.seen);
  assert.deepEqual(hits, [], `page scripts saw tokens: ${JSON.stringify(hits)}`);
});

iso("bodies: a 10 MB response streams through the worker intact, a 5 MB request body arrives intact", async (s) => {
  const { page } = s;
  await signInThroughDemo(s);
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
    for (const c of chunks) { all.set(c, o); o += c.length; }
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
  await signInThroughDemo(s);
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
    const t0 = performance.now();
    try {
      await PkceWasm.create({ ...cfg, workerUrl: "/pkce/missing-worker.js" });
      return { ok: true };
    } catch (e) {
      return { code: e.code, ms: performance.now() - t0 };
    }
  });
  assert.equal(res.code, "worker_failed");
});

iso("failure: the worker killed mid-request: pending calls reject worker_lost, signedOut fires, a new worker serves the next call", async (s) => {
  const { page } = s;
  await signInThroughDemo(s);
  await page.evaluate(() => {
    window.__events = [];
    window.auth.on("signedOut", (d) => window.__events.push(d.reason));
    window.__pending = window.auth.fetch("/api/stream?bytes=1000&pauseMs=10000").then((r) => r.text()).then(() => "resolved", (e) => e.code || e.name);
  });
  await sleep(300);
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send("Target.getTargets");
  const workers = targetInfos.filter((t) => t.type === "shared_worker" && t.url.includes("pkce-wasm.worker.js"));
  assert.equal(workers.length, 1, `one shared worker target (${targetInfos.map((t) => t.type).join(",")})`);
  const t0 = Date.now();
  await cdp.send("Target.closeTarget", { targetId: workers[0].targetId });
  const outcome = await page.evaluate(() => window.__pending);
  const ms = Date.now() - t0;
  assert.equal(outcome, "worker_lost", "the pending request rejected with worker_lost");
  assert.ok(ms < 15_000, `detected in ${ms} ms: nothing hangs (ping every 1 s, dead after 10 s unanswered)`);
  await page.waitForFunction(() => window.__events.includes("worker_lost"));
  // The next call starts a fresh worker: signed out (tokens were only in the dead one), working.
  assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), false);
  await cdp.detach();
});
