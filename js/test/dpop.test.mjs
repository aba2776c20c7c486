// End-to-end tests of DPoP (RFC 9449): the demo with ?dpop=1 (option dpop: true), the dev
// server's OP and API (server/dpop*.go) in headless Chromium. The client runs in a worker: what it
// sent is read from the servers' records (issued tokens, grants, /api/* requests with their
// Authorization and DPoP headers).
//
// Chromium only (playwright-harness.mjs; skipped when BROWSERS does not name chromium).
// Prerequisites as for e2e.test.mjs (`make build`). Run from js/:
//   E2E_APP_PORT=28480 E2E_OP_PORT=29490 node --test --test-concurrency=1 test/dpop.test.mjs

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, webcrypto } from "node:crypto";
import path from "node:path";
import {
  CHROMIUM_SKIP,
  REPO_ROOT,
  attemptSignIn,
  chromiumTest,
  bareURL,
  jwtPayload,
  latestTokens,
  launchBrowser,
  startServer,
  waitForNavigationRequest,
  waitReady,
  withSession as runSession,
} from "./playwright-harness.mjs";

const TEST_TIMEOUT_MS = 90_000;

let server;
let browser;

before(async () => {
  if (CHROMIUM_SKIP) return;
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (server) await setNonceMode(false).catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
});

const e2e = (name, fn) => chromiumTest(name, { timeout: TEST_TIMEOUT_MS }, (t) => runSession(t, server, browser, (s) => fn(s, t)));

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const sha256 = (s) => createHash("sha256").update(s).digest("base64url");
const decodePart = (jwt, i) => JSON.parse(Buffer.from(String(jwt).split(".")[i], "base64url").toString("utf8"));

/** Turns the servers' DPoP nonce mode on or off, on the OP's origin and the app's (API) origin. */
async function setNonceMode(on) {
  for (const origin of [new URL(server.config.issuer).origin, server.appOrigin]) {
    const res = await fetch(`${origin}/__test/dpop-nonce?on=${on ? 1 : 0}`, { method: "POST" });
    if (!res.ok) throw new Error(`POST ${origin}/__test/dpop-nonce: HTTP ${res.status}`);
  }
}

/** Signs in on the demo with dpop: true; asserts success. Returns the tokens the OP issued. */
async function signInDPoP(s) {
  const attempt = await attemptSignIn(s, server, "/?dpop=1");
  assert.equal(attempt.errorCode, "", `sign-in with DPoP ended with error ${attempt.errorText}`);
  await s.page.locator('#status[data-state="signed-in"]').waitFor();
  return latestTokens(server);
}

/** The dpop_jkt of the (last) authorization request the page navigated to. */
function authorizeJKT(s) {
  const authz = server.discovery.authorization_endpoint;
  const hits = s.navigations().filter((u) => bareURL(u) === authz);
  assert.ok(hits.length > 0, "the page went to the authorization endpoint");
  return new URL(hits.at(-1)).searchParams.get("dpop_jkt");
}

const pageFetch = (page, url) =>
  page.evaluate(
    (u) => window.auth.fetch(u).then((r) => ({ status: r.status }), (e) => ({ code: e && e.code, message: String(e && e.message) })),
    url,
  );

/** What the page can see of the key store: the records, and whether each private key exports. */
const keyStoreState = (page) =>
  page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open("pkce-wasm-dpop", 1);
      r.onupgradeneeded = () => r.result.createObjectStore("keys");
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const all = await new Promise((res, rej) => {
      const r = db.transaction("keys").objectStore("keys").getAll();
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    db.close();
    const out = [];
    for (const rec of all) {
      const exported = await crypto.subtle.exportKey("jwk", rec.privateKey).then(() => true, () => false);
      out.push({ extractable: rec.privateKey.extractable, alg: rec.privateKey.algorithm.name, curve: rec.privateKey.algorithm.namedCurve, exported });
    }
    return out;
  });

/** A DPoP proof made in Node with a key of its own (not the client's). */
async function foreignProof({ htm, htu, accessToken }) {
  const { privateKey, publicKey } = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const { kty, crv, x, y } = await webcrypto.subtle.exportKey("jwk", publicKey);
  const header = b64url(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } }));
  const claims = b64url(JSON.stringify({ jti: b64url(webcrypto.getRandomValues(new Uint8Array(16))), htm, htu, iat: Math.floor(Date.now() / 1000), ath: sha256(accessToken) }));
  const sig = await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, Buffer.from(`${header}.${claims}`));
  return `${header}.${claims}.${b64url(sig)}`;
}

e2e("DPoP sign-in: dpop_jkt, cnf-bound tokens, /api/me with Authorization: DPoP and a fresh proof", async (s) => {
  const { page } = s;
  const tokens = await signInDPoP(s);
  const jkt = jwtPayload(tokens.access_token).cnf?.jkt;
  assert.ok(jkt, "the access token is DPoP-bound (cnf.jkt)");
  assert.equal(authorizeJKT(s), jkt, "the authorization request's dpop_jkt is the token's cnf.jkt");

  const stats = await server.stats();
  assert.equal(stats.grants.authorization_code, 1, "one code exchange (no nonce mode)");

  for (let i = 0; i < 2; i++) assert.deepEqual(await pageFetch(page, "/api/me"), { status: 200 });
  const me = (await server.apiRequests()).filter((r) => r.path === "/api/me");
  assert.equal(me.length, 2);
  for (const r of me) {
    assert.equal(r.authorization, `DPoP ${tokens.access_token}`, "Authorization uses the DPoP scheme");
    assert.ok(r.dpop, "a DPoP proof header was sent");
    const h = decodePart(r.dpop, 0);
    const c = decodePart(r.dpop, 1);
    assert.equal(h.typ, "dpop+jwt");
    assert.equal(h.alg, "ES256");
    assert.deepEqual(Object.keys(h.jwk).sort(), ["crv", "kty", "x", "y"], "public members only");
    assert.equal(c.htm, "GET");
    assert.equal(c.htu, `${server.appOrigin}/api/me`);
    assert.equal(c.ath, sha256(tokens.access_token));
    assert.equal(c.nonce, undefined);
  }
  assert.notEqual(decodePart(me[0].dpop, 1).jti, decodePart(me[1].dpop, 1).jti, "a new proof per request");

  // UserInfo (a protected resource at the OP) takes the bound token with a proof too.
  const info = await page.evaluate(() => window.auth.getUserInfo().then((u) => ({ sub: u.sub }), (e) => ({ code: e.code, message: e.message })));
  assert.equal(info.sub, jwtPayload(tokens.id_token).sub, `getUserInfo with DPoP: ${JSON.stringify(info)}`);

  // The token alone is worth nothing: replayed from Node without a proof, with the Bearer scheme,
  // with a proof by another key, and with the client's own (already used) proof: all 401.
  const url = `${server.appOrigin}/api/me`;
  const tries = {
    "DPoP scheme, no proof": { Authorization: `DPoP ${tokens.access_token}` },
    "Bearer scheme": { Authorization: `Bearer ${tokens.access_token}` },
    "proof by another key": { Authorization: `DPoP ${tokens.access_token}`, DPoP: await foreignProof({ htm: "GET", htu: url, accessToken: tokens.access_token }) },
    "replayed proof": { Authorization: `DPoP ${tokens.access_token}`, DPoP: me[1].dpop },
  };
  for (const [name, headers] of Object.entries(tries)) {
    const res = await fetch(url, { headers });
    assert.equal(res.status, 401, `${name}: HTTP ${res.status}`);
  }
});

e2e("DPoP: the key is in IndexedDB, non-extractable; the page can read the record but not export it", async (s) => {
  const { page } = s;
  await signInDPoP(s);
  const keys = await keyStoreState(page);
  assert.equal(keys.length, 1, "one key pair stored");
  assert.deepEqual(keys[0], { extractable: false, alg: "ECDSA", curve: "P-256", exported: false });
});

e2e("DPoP nonce mode: sign-in and API calls succeed with one nonce retry each", async (s) => {
  const { page } = s;
  await setNonceMode(true);
  try {
    const attempt = await attemptSignIn(s, server, "/?dpop=1");
    assert.equal(attempt.errorCode, "", `sign-in ended with error ${attempt.errorText}`);
    await page.locator('#status[data-state="signed-in"]').waitFor();
    const stats = await server.stats();
    assert.equal(stats.grants.authorization_code, 2, "code exchange: refused with use_dpop_nonce once, then accepted");

    assert.deepEqual(await pageFetch(page, "/api/me"), { status: 200 });
    let me = (await server.apiRequests()).filter((r) => r.path === "/api/me");
    assert.equal(me.length, 2, "first /api/me: one nonce retry");
    assert.equal(decodePart(me[0].dpop, 1).nonce, undefined, "no nonce known before the API gave one");
    assert.ok(decodePart(me[1].dpop, 1).nonce, "the retry carries the API's nonce");
    assert.notEqual(decodePart(me[0].dpop, 1).jti, decodePart(me[1].dpop, 1).jti, "the retry has a new proof");

    // The nonce is remembered: the next call needs no retry.
    assert.deepEqual(await pageFetch(page, "/api/me"), { status: 200 });
    me = (await server.apiRequests()).filter((r) => r.path === "/api/me");
    assert.equal(me.length, 3, "second /api/me: no retry");
    assert.equal(decodePart(me[2].dpop, 1).nonce, decodePart(me[1].dpop, 1).nonce);

    // UserInfo is on the OP's origin, whose nonce the client learned at the token endpoint.
    const before = (await server.stats()).requests["/userinfo"] || 0;
    const info = await page.evaluate(() => window.auth.getUserInfo().then((u) => ({ sub: u.sub }), (e) => ({ code: e.code, message: e.message })));
    assert.ok(info.sub, `getUserInfo in nonce mode: ${JSON.stringify(info)}`);
    assert.equal(((await server.stats()).requests["/userinfo"] || 0) - before, 1, "no nonce retry at UserInfo: the OP's nonce is remembered per origin");
  } finally {
    await setNonceMode(false);
  }
});

e2e("DPoP refresh: a 401 invalid_token refreshes with a proof by the same key and retries", async (s) => {
  const { page } = s;
  const first = await signInDPoP(s);
  const jkt = jwtPayload(first.access_token).cnf.jkt;
  assert.deepEqual(await pageFetch(page, "/api/flaky?id=dpop-refresh&fail=1"), { status: 200 });
  const stats = await server.stats();
  assert.equal(stats.grants.refresh_token, 1, "one refresh grant (the refresh token is bound: it needs a proof by the key)");
  const now = await latestTokens(server);
  assert.notEqual(now.access_token, first.access_token, "a new access token");
  assert.equal(jwtPayload(now.access_token).cnf?.jkt, jkt, "bound to the same key");
  const flaky = (await server.apiRequests()).filter((r) => r.path === "/api/flaky");
  assert.equal(flaky.length, 2, "one retry");
  assert.equal(flaky[0].authorization, `DPoP ${first.access_token}`);
  assert.equal(flaky[1].authorization, `DPoP ${now.access_token}`);
  assert.equal(decodePart(flaky[1].dpop, 1).ath, sha256(now.access_token), "the retry's proof is for the new token");
  assert.deepEqual(await pageFetch(page, "/api/me"), { status: 200 });
});

e2e("DPoP logout deletes the key; the next sign-in binds a new one", async (s) => {
  const { page } = s;
  const first = await signInDPoP(s);
  const jkt1 = jwtPayload(first.access_token).cnf.jkt;
  assert.equal((await keyStoreState(page)).length, 1);

  const backOnApp = waitForNavigationRequest(page, (u) => u.origin === server.appOrigin);
  await page.click("#logout");
  await backOnApp;
  await waitReady(page);
  await page.locator('#status[data-state="signed-out"]').waitFor();
  assert.equal((await keyStoreState(page)).length, 0, "the key store is empty after logout");

  await server.reset();
  const second = await signInDPoP(s);
  const jkt2 = jwtPayload(second.access_token).cnf?.jkt;
  assert.ok(jkt2, "the new access token is bound");
  assert.notEqual(jkt2, jkt1, "a new key after logout");
  assert.equal(authorizeJKT(s), jkt2);
  assert.equal((await keyStoreState(page)).length, 1);
  assert.deepEqual(await pageFetch(page, "/api/me"), { status: 200 });
});

// Not a pass/fail test: what one proof costs in this Chromium. wasm/internal/dpopbench runs
// core.BuildDPoPProof with the WebCrypto signer (jsbridge.DPoPKeys), as auth.fetch does per request,
// in batches (timers are coarsened to 0.1 ms); also the raw WebCrypto ES256 sign time.
// A benchmark, not a test: `make bench` runs it (BENCH_DPOP=1); `make test` skips it.
e2e("DPoP cost figures (make bench)", async (s, t) => {
  if (!process.env.BENCH_DPOP) return t.skip("a benchmark: make bench runs it (BENCH_DPOP=1)");
  const { page } = s;
  const wasm = path.join(REPO_ROOT, "js", "dist", "dpop-bench.wasm");
  execFileSync("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", wasm, "./wasm/internal/dpopbench"], {
    cwd: REPO_ROOT,
    env: { ...process.env, GOOS: "js", GOARCH: "wasm" },
    stdio: "inherit",
  });
  await page.goto(`${server.appOrigin}/`);
  await waitReady(page);
  const sign = await page.evaluate(async () => {
    const { privateKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const data = new TextEncoder().encode("x".repeat(400));
    const means = [];
    for (let b = 0; b < 20; b++) {
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data);
      means.push((performance.now() - t0) / 50);
    }
    means.sort((a, b) => a - b);
    return means[means.length >> 1];
  });
  const proof = await page.evaluate(async () => {
    await import("/pkce/wasm_exec.js");
    const go = new globalThis.Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch("/pkce/dpop-bench.wasm"), go.importObject);
    go.run(instance);
    while (typeof globalThis.dpopBench !== "function") await new Promise((r) => setTimeout(r, 10));
    await globalThis.dpopBench(2, 20); // warm-up
    return globalThis.dpopBench(20, 50);
  });
  const msg =
    `DPoP cost in Chromium: one proof (Go claims + JWS in WASM, WebCrypto ES256 sign) median ${proof.medianMs.toFixed(3)} ms ` +
    `(batch means ${proof.minMs.toFixed(3)}-${proof.maxMs.toFixed(3)} ms, ${proof.proofs} proofs); ` +
    `WebCrypto ES256 sign alone median ${sign.toFixed(3)} ms`;
  t.diagnostic(msg);
  console.log(msg);
  assert.ok(proof.medianMs > 0 && proof.medianMs < 50, "a proof takes well under 50 ms");
});
