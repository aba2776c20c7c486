// DPoP interop with a third-party authorization server: the npm package oidc-provider (a dev
// dependency; DPoP on by default in its 9.x), run in this process, and the pkce-wasm bundle from
// js/dist served by a small static server on another origin. Chromium signs in with dpop: true
// through oidc-provider's development login and consent pages, then calls its UserInfo with the
// DPoP-bound access token: the exchange's proof, dpop_jkt, token_type DPoP and the UserInfo
// proof (with ath) are all checked by oidc-provider's own code. A second run turns on its
// server-provided nonces (§8, §9) and requires them.
//
// Chromium only (playwright-harness.mjs). Prerequisite: `make build` (js/dist). Run from js/: node --test test/dpop-interop.test.mjs.
// Env: INTEROP_APP_PORT / INTEROP_OP_PORT (18490 / 19490).

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import Provider from "oidc-provider";
import { CHROMIUM_SKIP, JS_DIR, chromiumTest, launchBrowser } from "./playwright-harness.mjs";

const APP_PORT = Number(process.env.INTEROP_APP_PORT || 18490);
const OP_PORT = Number(process.env.INTEROP_OP_PORT || 19490);
const APP = `http://localhost:${APP_PORT}`;
const ISSUER = `http://localhost:${OP_PORT}`;
const CLIENT_ID = "pkce-wasm-interop";
const REDIRECT = `${APP}/interop.html`;
const STEP_MS = 20_000;

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html; charset=utf-8" };

// The app page: the bundle with dpop: true against oidc-provider; it handles the callback.
const PAGE = `<!doctype html><meta charset="utf-8"><title>interop</title><body>
<script type="module">
import { PkceWasm } from "/pkce/pkce-wasm.js";
try {
  // #page (remembered for this tab across the redirect): the client in the page, not a worker.
  if (location.hash === "#page") sessionStorage.setItem("isolation", "page");
  const isolation = sessionStorage.getItem("isolation") || undefined;
  const auth = await PkceWasm.create({ issuer: ${JSON.stringify(ISSUER)}, clientId: ${JSON.stringify(CLIENT_ID)},
    redirectUri: ${JSON.stringify(REDIRECT)}, scope: "openid", dpop: true, isolation });
  window.auth = auth;
  if (PkceWasm.isCallback(location.href)) {
    await auth.handleCallback();
    history.replaceState(null, "", "/interop.html");
  }
} catch (err) {
  window.__error = String(err && err.code) + ": " + String(err && err.description);
}
document.body.dataset.ready = "true";
</script>`;

let op;
let opServer;
let app;
let browser;
const saved = []; // access tokens oidc-provider stored: {jkt}
const counts = { token: 0, userinfo: 0 }; // requests that reached oidc-provider

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "localhost", resolve);
  });
}

function startOP({ nonce }) {
  const provider = new Provider(ISSUER, {
    clients: [{
      client_id: CLIENT_ID,
      token_endpoint_auth_method: "none",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    }],
    features: {
      devInteractions: { enabled: true },
      dPoP: nonce ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } : { enabled: true },
    },
    pkce: { required: () => true },
  });
  provider.on("access_token.saved", (t) => saved.push({ jkt: t.jkt }));
  provider.use(async (ctx, next) => {
    if (ctx.method === "POST" && ctx.path === "/token") counts.token++;
    if (ctx.method === "GET" && ctx.path === "/me") counts.userinfo++;
    await next();
  });
  provider.on("server_error", (_ctx, err) => console.error("oidc-provider server_error", err));
  return provider;
}

before(async () => {
  if (CHROMIUM_SKIP) return;
  app = createServer(async (req, res) => {
    const u = new URL(req.url, APP);
    if (u.pathname === "/interop.html") {
      res.writeHead(200, { "Content-Type": TYPES[".html"], "Cache-Control": "no-store" });
      return res.end(PAGE);
    }
    const m = /^\/pkce\/([\w.-]+)$/.exec(u.pathname);
    if (!m) {
      res.writeHead(404);
      return res.end();
    }
    try {
      const body = await readFile(path.join(JS_DIR, "dist", m[1]));
      res.writeHead(200, { "Content-Type": TYPES[path.extname(m[1])] || "application/octet-stream", "Cache-Control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await listen(app, APP_PORT);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await new Promise((r) => (opServer ? opServer.close(r) : r()));
  await new Promise((r) => (app ? app.close(r) : r()));
});

async function withOP(opts, fn) {
  op = startOP(opts);
  opServer = createServer(op.callback());
  await listen(opServer, OP_PORT);
  try {
    await fn();
  } finally {
    opServer.closeAllConnections?.();
    await new Promise((r) => opServer.close(r));
    opServer = null;
  }
}

async function signInAndCallUserInfo(t, { nonce, isolation }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const log = [];
  page.on("console", (m) => log.push(`[console.${m.type()}] ${m.text()}`));
  const navs = [];
  page.on("request", (r) => {
    if (!r.isNavigationRequest() || r.frame() !== page.mainFrame()) return;
    navs.push(r.url());
    log.push(`[nav] ${r.url().replace(/([?&](code|state|nonce|code_challenge)=)[^&]*/g, "$1…")}`);
  });
  try {
    await page.goto(isolation === "page" ? `${REDIRECT}#page` : REDIRECT);
    await page.locator('body[data-ready="true"]').waitFor({ state: "attached" });
    assert.equal(await page.evaluate(() => window.__error), undefined);
    saved.length = 0;
    counts.token = counts.userinfo = 0;
    // login() navigates away: start it without waiting for its (never settling) Promise.
    await page.evaluate(() => { window.auth.login(); });
    await page.waitForURL((u) => u.origin === ISSUER);
    const authURL = navs.filter((u) => u.startsWith(`${ISSUER}/auth?`)).at(-1) || "";
    assert.match(new URL(authURL || "http://x/").searchParams.get("dpop_jkt") || "", /^[\w-]{43}$/, "the authorization request carries dpop_jkt");
    await page.locator('input[name="login"]').fill("interop-user");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: "attached" });
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.origin === APP && !u.search.includes("code="));
    await page.locator('body[data-ready="true"]').waitFor({ state: "attached" });
    assert.equal(await page.evaluate(() => window.__error), undefined, "handleCallback succeeded (proof, token_type DPoP)");
    assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), true);
    assert.equal(saved.length, 1, "one access token issued");
    assert.match(String(saved[0].jkt), /^[\w-]{43}$/, "oidc-provider bound the access token to the key (jkt)");
    const info = await page.evaluate(() => window.auth.getUserInfo().then((u) => ({ sub: u.sub }), (e) => ({ code: e.code, description: e.description })));
    assert.deepEqual(info, { sub: "interop-user" }, "UserInfo accepted the DPoP-bound token with a proof");
    // With required nonces the first exchange is refused (use_dpop_nonce) and retried once;
    // UserInfo is on the same origin, whose nonce the client already has.
    assert.equal(counts.token, nonce ? 2 : 1, "token requests");
    assert.equal(counts.userinfo, 1, "UserInfo requests");
    const wasmInPage = await page.evaluate(() => performance.getEntriesByType("resource").some((e) => e.name.endsWith("/pkce.wasm")));
    assert.equal(wasmInPage, isolation === "page", "the WASM runs in the page only with isolation page");
    if (isolation === "page") {
      // The page's own key store: one pair, private key not extractable.
      const keys = await page.evaluate(async () => {
        const db = await new Promise((res, rej) => { const r = indexedDB.open("pkce-wasm-dpop", 1); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
        const all = await new Promise((res) => { const r = db.transaction("keys").objectStore("keys").getAll(); r.onsuccess = () => res(r.result); });
        return all.map((p) => p.privateKey.extractable);
      });
      assert.deepEqual(keys, [false], "one stored key pair, private key not extractable");
    }
  } catch (err) {
    t.diagnostic(log.join("\n"));
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

chromiumTest("interop: oidc-provider (DPoP): sign-in with dpop_jkt and a proof, token_type DPoP, UserInfo with a proof", { timeout: 90_000 }, (t) =>
  withOP({ nonce: false }, () => signInAndCallUserInfo(t, { nonce: false })));

chromiumTest("interop: oidc-provider with required DPoP nonces: the client retries once with the server's nonce", { timeout: 90_000 }, (t) =>
  withOP({ nonce: true }, () => signInAndCallUserInfo(t, { nonce: true })));

chromiumTest("interop: oidc-provider, client in the page (isolation \"page\"), required nonces", { timeout: 90_000 }, (t) =>
  withOP({ nonce: true }, () => signInAndCallUserInfo(t, { nonce: true, isolation: "page" })));
