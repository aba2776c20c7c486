// End-to-end tests against a deliberately misbehaving provider: the dev server's OP corrupts ONE
// thing per test (POST /__test/misbehave, server/misbehave.go) and the real client, in headless
// Chromium, must reject it:
//   1. with the right PkceWasmError.code (the demo shows it in #error[data-code]);
//   2. holding no tokens (auth.isAuthenticated() === false);
//   3. without any further token-endpoint or userinfo request after the rejection, checked on the
//      server (/__test/stats now and 500 ms later); cases rejected before the code exchange make
//      no authorization_code grant at all.
// No error message shown may contain a token (or the code / code_verifier).
//
// Prerequisites and environment: as e2e.test.mjs (`make build`; E2E_APP_PORT / E2E_OP_PORT,
// CHROMIUM_PATH). Each test gets a fresh browser context; the server's stats and case are reset
// before and after every test. A line per case ("# misbehave {...}") reports what was observed.

import { before, after, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify as cryptoVerify } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  OTHER_ORIGIN,
  attemptSignIn,
  authorizeAtOP,
  bareURL,
  jwtPayload,
  launchBrowser,
  newSession,
  signIn,
  startServer,
  waitReady,
  withSession as runSession,
  CHROMIUM_SKIP,
  chromiumTest as test,
} from "./playwright-harness.mjs";

const TEST_TIMEOUT_MS = 45_000;
/** How long "no further request" is watched for after the rejection. */
const QUIET_MS = 500;
/** The client refetches the JWKS for an unknown kid at most once per 60 s (wasm/core/jwks.go). */
const PAST_JWKS_REFETCH_INTERVAL = "01:05";
/** server/misbehave.go: misbehaveGrantDescription. */
const GRANT_DESCRIPTION = "misbehave: the authorization code is invalid or was already used";

let server;
let browser;
let paths; // OP endpoint paths, as /__test/stats keys them
let opJWKS; // the OP's own JWK Set, to check which keys the corrupted ID tokens verify with

before(async () => {
  if (CHROMIUM_SKIP) return;
  server = await startServer();
  browser = await launchBrowser();
  const d = server.discovery;
  paths = {
    token: new URL(d.token_endpoint).pathname,
    userinfo: new URL(d.userinfo_endpoint).pathname,
    keys: new URL(d.jwks_uri).pathname,
    authorize: new URL(d.authorization_endpoint).pathname,
  };
  opJWKS = await (await fetch(d.jwks_uri)).json();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

beforeEach(() => server?.reset());
afterEach(() => server?.reset()); // also ends the case

const withSession = (t, fn, opts) => runSession(t, server, browser, fn, opts);

const count = (stats, path) => stats.requests?.[path] ?? 0;
const counts = (st) => ({
  authorize: count(st, paths.authorize),
  token: count(st, paths.token),
  userinfo: count(st, paths.userinfo),
  keys: count(st, paths.keys),
  codeGrants: st.grants?.authorization_code ?? 0,
  refreshGrants: st.grants?.refresh_token ?? 0,
});

function report(t, row) {
  t.diagnostic(`misbehave ${JSON.stringify({ case: t.name, ...row })}`);
}

/** Everything secret the client got: the tokens the OP sent (its record), and the code. */
async function secretsOf(s, callbackURL) {
  const secrets = {};
  for (const [i, tok] of (await server.issued()).entries()) {
    if (tok.value.length < 8) continue;
    secrets[`${tok.kind}#${i}`] = tok.value;
    const sig = tok.value.split(".")[2];
    if (sig && sig.length >= 16) secrets[`${tok.kind}#${i} signature`] = sig;
  }
  const code = callbackURL && new URL(callbackURL).searchParams.get("code");
  if (code) secrets.code = code;
  return secrets;
}

function assertNoSecrets(secrets, where, text) {
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!String(text).includes(value), `${name} appears in ${where}`);
  }
}

/** The ID token of the (single) token response the client received, from the OP's record. */
async function receivedIDToken(s) {
  const idts = (await server.issued()).filter((t) => t.kind === "id_token");
  assert.equal(idts.length, 1, "one token response with an id_token");
  return idts[0].value;
}

function jwsHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString("utf8"));
}

/** Whether jwt's RS256 signature verifies with the key of its kid in jwks. */
function verifiesWith(jwt, jwks) {
  const [h, p, sig] = jwt.split(".");
  const jwk = jwks.keys.find((k) => k.kid === jwsHeader(jwt).kid);
  if (!jwk) return false;
  return cryptoVerify("RSA-SHA256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(sig, "base64url"));
}

/**
 * The common assertions after the app showed a rejection: the code, no tokens held, no token or
 * userinfo request after it (and, before the exchange, no code grant at all), no secret in what
 * the page shows. Returns the report row.
 */
async function assertRejected(t, s, outcome, { code, phase }) {
  const { page } = s;
  const atError = await server.stats();
  const quietFrom = Date.now(); // the checks below run while the quiet period elapses
  assert.equal(outcome.errorCode, code, `error code (shown: ${JSON.stringify(outcome.errorText)})`);
  assert.ok(outcome.errorText.startsWith(`${code}: `), `#error text ${JSON.stringify(outcome.errorText)}`);
  assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), false, "no tokens held");
  assert.equal(await page.evaluate(() => window.auth.getUser()), null, "no user");
  await page.locator('#status[data-state="signed-out"]').waitFor();
  assert.ok(!/[?&#](code|state|iss|error)=/.test(page.url()), `callback parameters left in the URL: ${page.url()}`);

  const secrets = await secretsOf(s, outcome.callbackURL);
  assertNoSecrets(secrets, "the #error text", outcome.errorText);
  assertNoSecrets(secrets, "the page", await page.content());
  assertNoSecrets(secrets, "the console", s.consoleLines.join("\n"));

  await sleep(Math.max(0, QUIET_MS - (Date.now() - quietFrom)));
  const later = await server.stats();
  const c0 = counts(atError);
  const c1 = counts(later);
  assert.equal(c1.token, c0.token, "no token request after the rejection");
  assert.equal(c1.codeGrants, c0.codeGrants, "no authorization_code grant after the rejection");
  assert.equal(c1.refreshGrants, 0, "no refresh_token grant");
  assert.equal(c1.userinfo, 0, "no userinfo request");
  if (phase === "before-exchange") {
    assert.equal(c1.codeGrants, 0, "rejected before the exchange: no authorization_code grant at all");
    assert.equal(c1.token, 0, "rejected before the exchange: no token request at all");
    assert.equal(counts(await server.stats()).token, 0, "the client sent no token request");
  } else {
    assert.equal(c1.codeGrants, 1, "exactly one authorization_code grant");
    assert.equal(c1.token, 1, "exactly one token request");
  }

  const st = await server.misbehaveState();
  assert.equal(st.case, t.name, "the case was active");
  assert.ok(st.applied >= 1, `the OP really misbehaved (applied ${st.applied})`);
  return { expected: code, observed: outcome.errorCode, message: outcome.errorText, counts: c1, applied: st.applied };
}

/** A test whose login runs under case t.name and is rejected with `code`. */
function rejects(name, { code, phase, check }) {
  test(name, { timeout: TEST_TIMEOUT_MS }, (t) =>
    withSession(t, async (s) => {
      await server.misbehave(name);
      const outcome = await attemptSignIn(s, server);
      const row = await assertRejected(t, s, outcome, { code, phase });
      if (check) await check(s, outcome, row);
      report(t, row);
    }),
  );
}

// --- The authorization response (the OP's redirect to the redirect URI) ---

rejects("wrong_state", {
  code: "state_mismatch",
  phase: "before-exchange",
  check: async (s, { callbackURL }) => {
    const authReq = s.requests.find((r) => r.navigation && bareURL(r.url) === server.discovery.authorization_endpoint);
    const sent = new URL(authReq.url).searchParams.get("state");
    const got = new URL(callbackURL).searchParams.get("state");
    assert.ok(got && got !== sent, "premise: the callback carried another state");
  },
});

rejects("missing_state", {
  code: "invalid_callback",
  phase: "before-exchange",
  check: async (s, { callbackURL }) => {
    const q = new URL(callbackURL).searchParams;
    assert.ok(q.get("code") && !q.has("state"), "premise: code without state");
  },
});

rejects("wrong_iss", {
  code: "issuer_mismatch",
  phase: "before-exchange",
  check: async (s, { callbackURL }) => {
    const iss = new URL(callbackURL).searchParams.get("iss");
    assert.ok(iss && iss !== server.config.issuer, `premise: another iss (${iss})`);
  },
});

// --- The ID token ---

rejects("tampered_signature", {
  code: "invalid_id_token",
  phase: "after-exchange",
  check: async (s) => {
    const idt = await receivedIDToken(s);
    assert.equal(jwsHeader(idt).alg, "RS256");
    assert.equal(verifiesWith(idt, opJWKS), false, "premise: the signature does not verify");
  },
});

rejects("alg_none", {
  code: "invalid_id_token",
  phase: "after-exchange",
  check: async (s) => {
    const idt = await receivedIDToken(s);
    assert.deepEqual(jwsHeader(idt), { alg: "none" });
    assert.ok(idt.endsWith("."), "premise: empty signature");
  },
});

/** Claim cases: the token verifies with the OP's published key, so only the claim is wrong. */
const onlyClaimWrong = (premise) => async (s) => {
  const idt = await receivedIDToken(s);
  assert.ok(verifiesWith(idt, opJWKS), "premise: the re-signed ID token verifies with the OP's published key");
  const claims = jwtPayload(idt);
  assert.equal(claims.iss, server.config.issuer);
  premise(claims, s);
};

rejects("wrong_aud", {
  code: "invalid_id_token",
  phase: "after-exchange",
  check: onlyClaimWrong((c) => {
    const aud = [].concat(c.aud);
    assert.ok(!aud.includes(server.config.clientId), `premise: aud ${JSON.stringify(c.aud)} lacks the client id`);
  }),
});

rejects("expired", {
  code: "invalid_id_token",
  phase: "after-exchange",
  check: onlyClaimWrong((c) => {
    const now = Date.now() / 1000;
    assert.ok(c.exp < now - 590 && c.exp > now - 610, `premise: exp ${c.exp} is 10 min ago`);
    assert.ok(c.iat < c.exp, "premise: iat before exp");
  }),
});

rejects("wrong_nonce", {
  code: "invalid_id_token",
  phase: "after-exchange",
  check: onlyClaimWrong((c, s) => {
    const authReq = s.requests.find((r) => r.navigation && bareURL(r.url) === server.discovery.authorization_endpoint);
    const sent = new URL(authReq.url).searchParams.get("nonce");
    assert.ok(sent && c.nonce && c.nonce !== sent, "premise: another nonce");
  }),
});

rejects("missing_sub", {
  code: "invalid_id_token",
  phase: "after-exchange",
  check: onlyClaimWrong((c) => assert.equal(c.sub, undefined, "premise: no sub")),
});

// --- Keys: unknown kid and key rotation (the client's JWKS cache and its rate-limited refetch) ---

/**
 * In a signed-in page whose client has fetched the JWKS, runs a second login in the SAME page
 * (same WASM instance, so the key cache is kept): the navigation to the authorization endpoint is
 * answered 204 by Playwright (the page stays), the OP is driven over HTTP, and the authorization
 * response is handed to auth.handleCallback(url). Resolves to { callbackURL, result } where result
 * is {ok, returnTo} or {ok:false, name, code, message}.
 */
async function loginAgainInPage(s) {
  const { page } = s;
  const authEndpoint = server.discovery.authorization_endpoint;
  let authURL = null;
  const match = (u) => bareURL(u.href) === authEndpoint;
  const handler = (route) => {
    authURL = route.request().url();
    return route.fulfill({ status: 204 });
  };
  await page.route(match, handler);
  try {
    await page.evaluate(() => window.auth.login({ returnTo: "/" }));
    const deadline = Date.now() + 10_000;
    while (!authURL && Date.now() < deadline) await sleep(20);
    assert.ok(authURL, "auth.login() navigated to the authorization endpoint");
  } finally {
    await page.unroute(match, handler);
  }
  const callbackURL = await authorizeAtOP(authURL);
  assert.equal(bareURL(callbackURL), server.config.redirectUri, "the OP answered at the redirect URI");
  const result = await page.evaluate(
    (u) =>
      window.auth.handleCallback(u).then(
        (r) => ({ ok: true, returnTo: r && r.returnTo }),
        (e) => ({ ok: false, name: e && e.name, code: e && e.code, message: String(e && e.message) }),
      ),
    callbackURL,
  );
  return { callbackURL, result };
}

/** Signs in normally (the client fetches and caches the JWKS), then forgets the tokens locally. */
async function warmKeyCacheSignedOut(s) {
  await server.misbehave("");
  const first = await signIn(s, server);
  const st = counts(await server.stats());
  assert.equal(st.keys, 1, "the first login fetched the JWKS once");
  await s.page.evaluate(() => window.auth.logout({ localOnly: true }));
  assert.equal(await s.page.evaluate(() => window.auth.isAuthenticated()), false, "signed out locally");
  return first;
}

test("unknown_kid", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const row = {};
  // (a) Through the demo, fresh page: the client fetches the JWKS, finds no key for the kid,
  // fetches it once more (a provider may have rotated its keys just now) and rejects.
  await withSession(t, async (s) => {
    await server.misbehave("unknown_kid");
    const outcome = await attemptSignIn(s, server);
    const idt = await receivedIDToken(s);
    const kid = jwsHeader(idt).kid;
    assert.ok(kid && !opJWKS.keys.some((k) => k.kid === kid), "premise: the kid is not the OP's");
    Object.assign(row, await assertRejected(t, s, outcome, { code: "invalid_id_token", phase: "after-exchange" }));
    assert.equal(row.counts.keys, 2, "fresh page: the first JWKS fetch and one refetch for the unknown kid, no more");
  });

  // (b) The key cache is warm and older than the refetch interval: the unknown kid causes
  // exactly ONE extra JWKS fetch; a second such token right after causes none (rate limit).
  await server.reset();
  await withSession(
    t,
    async (s) => {
      await warmKeyCacheSignedOut(s);
      await s.context.clock.fastForward(PAST_JWKS_REFETCH_INTERVAL);
      await server.misbehave("unknown_kid");
      const base = counts(await server.stats());

      const second = await loginAgainInPage(s);
      assert.deepEqual(
        { ok: second.result.ok, name: second.result.name, code: second.result.code },
        { ok: false, name: "PkceWasmError", code: "invalid_id_token" },
        `warm cache: ${second.result.message}`,
      );
      assert.equal(await s.page.evaluate(() => window.auth.isAuthenticated()), false, "no tokens held");
      const afterSecond = counts(await server.stats());
      await sleep(QUIET_MS);
      const quiet = counts(await server.stats());
      assert.equal(afterSecond.keys - base.keys, 1, "exactly one extra JWKS fetch for the unknown kid");
      assert.equal(quiet.token, afterSecond.token, "no token request after the rejection");
      assert.equal(quiet.codeGrants - base.codeGrants, 1, "one code grant for this login");
      assert.equal(quiet.userinfo, 0, "no userinfo request");

      const third = await loginAgainInPage(s);
      assert.equal(third.result.code, "invalid_id_token", `again: ${third.result.message}`);
      const afterThird = counts(await server.stats());
      assert.equal(afterThird.keys, afterSecond.keys, "rate-limited: no JWKS fetch for the next unknown kid");
      assert.equal(await s.page.evaluate(() => window.auth.isAuthenticated()), false, "no tokens held");

      const secrets = await secretsOf(s, second.callbackURL);
      assertNoSecrets(secrets, "the error message", `${second.result.message}\n${third.result.message}`);
      row.warm = {
        observed: [second.result.code, third.result.code],
        extraKeyFetches: [afterSecond.keys - base.keys, afterThird.keys - afterSecond.keys],
        counts: afterThird,
      };
    },
    { clock: true },
  );
  report(t, row);
});

test("rotated_key", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(
    t,
    async (s) => {
      // JWKS request 1 (this login) has only the OP key; the rotated key is published from
      // request 2 on (server/misbehave.go, counted since the reset).
      const first = await warmKeyCacheSignedOut(s);
      await s.context.clock.fastForward(PAST_JWKS_REFETCH_INTERVAL);
      await server.misbehave("rotated_key");
      const base = counts(await server.stats());

      const { result } = await loginAgainInPage(s);
      assert.deepEqual(result, { ok: true, returnTo: "/" }, `login with the rotated key: ${result.message}`);
      assert.equal(await s.page.evaluate(() => window.auth.isAuthenticated()), true, "signed in");
      const user = await s.page.evaluate(() => window.auth.getUser());
      assert.equal(user.sub, first.claims.sub, "the same user");

      const idt = (await server.issued()).filter((x) => x.kind === "id_token").at(-1).value;
      const kid = jwsHeader(idt).kid;
      assert.ok(kid && !opJWKS.keys.some((k) => k.kid === kid), "premise: signed with a key the client had not cached");
      const after = counts(await server.stats());
      assert.equal(after.keys - base.keys, 1, "exactly one JWKS refetch, which found the rotated key");
      assert.equal(after.codeGrants - base.codeGrants, 1, "one code grant");
      const st = await server.misbehaveState();
      assert.ok(st.applied >= 2, `token response re-signed and JWKS extended (applied ${st.applied})`);
      report(t, { expected: "signed in", observed: "signed in", extraKeyFetches: after.keys - base.keys, counts: after });
    },
    { clock: true },
  ),
);

// --- The token response ---

rejects("no_access_token", {
  code: "invalid_token_response",
  phase: "after-exchange",
  check: async (s) => {
    const kinds = (await server.issued()).map((x) => x.kind);
    assert.ok(!kinds.includes("access_token") && kinds.includes("id_token"), `premise: no access_token, the rest intact (${kinds})`);
  },
});

rejects("html_token_response", {
  code: "invalid_token_response",
  phase: "after-exchange",
  check: async () => assert.ok((await server.misbehaveState()).applied >= 1, "premise: the OP answered HTML with HTTP 200"),
});

rejects("token_500", {
  code: "server_error",
  phase: "after-exchange",
  check: async () => assert.ok((await server.misbehaveState()).applied >= 1, "premise: the OP answered HTTP 500"),
});

rejects("invalid_grant", {
  code: "invalid_grant",
  phase: "after-exchange",
  check: async (s, { errorText }) => {
    assert.ok((await server.misbehaveState()).applied >= 1, "premise: the OP answered HTTP 400 invalid_grant");
    assert.ok(errorText.includes(GRANT_DESCRIPTION), `the description is surfaced: ${JSON.stringify(errorText)}`);
  },
});

// --- Discovery ---

test("discovery_issuer_mismatch", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { page } = s;
    await server.misbehave("discovery_issuer_mismatch");
    await page.goto(`${server.appOrigin}/?silent=0`);
    await waitReady(page);
    await page.locator('#status[data-state="signed-out"]').waitFor();
    await page.click("#login");
    await page.waitForFunction(() => document.querySelector("#error")?.dataset.code);
    const errorCode = await page.locator("#error").getAttribute("data-code");
    const errorText = await page.locator("#error").textContent();
    assert.equal(errorCode, "discovery_failed", `error code (shown: ${JSON.stringify(errorText)})`);
    assert.equal(page.url(), `${server.appOrigin}/?silent=0`, "still on the app");
    assert.equal(await page.evaluate(() => window.auth.isAuthenticated()), false, "no tokens held");

    await sleep(QUIET_MS);
    const c = counts(await server.stats());
    assert.equal(c.authorize, 0, "no authorization request reached the OP");
    const issuerOrigin = new URL(server.config.issuer).origin;
    assert.deepEqual(
      s.requests.filter((r) => r.navigation && new URL(r.url).origin === issuerOrigin).map((r) => bareURL(r.url)),
      [],
      "the browser never navigated to the OP",
    );
    assert.equal(c.token + c.userinfo + c.codeGrants, 0, "no token or userinfo request");
    const st = await server.misbehaveState();
    assert.ok(st.applied >= 1, "the discovery document was corrupted");
    report(t, { expected: "discovery_failed", observed: errorCode, message: errorText, counts: c, applied: st.applied });
  }),
);

// --- A resource server redirecting to another origin ---

test("redirect_cross_origin", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { page } = s;
    const { tokens } = await signIn(s, server);
    const echoURL = `${OTHER_ORIGIN}/api/echo`;
    assert.ok(!server.config.resourceOrigins.includes(OTHER_ORIGIN), "premise: 127.0.0.1 is not allow-listed");

    const echo = await page.evaluate(() =>
      window.auth
        .fetch("/api/redirect")
        .then(async (r) => ({ status: r.status, redirected: r.redirected, url: r.url, body: await r.json() }))
        .catch((e) => ({ fetchError: `${e && e.name}: ${e && e.message}` })),
    );
    assert.ok(!echo.fetchError, `auth.fetch("/api/redirect") failed: ${echo.fetchError}`);
    assert.equal(echo.url, echoURL, "the redirect was followed to the other origin");

    const seen = await server.apiRequests();
    const hop1 = seen.filter((r) => r.host === new URL(server.appOrigin).host && r.path === "/api/redirect");
    assert.equal(hop1.length, 1, "one /api/redirect request");
    assert.equal(hop1[0].authorization, `Bearer ${tokens.access_token}`, "premise: the allow-listed first hop carried the token");
    const hop2 = seen.filter((r) => r.host === new URL(OTHER_ORIGIN).host && r.path === "/api/echo");
    assert.ok(hop2.length >= 1, "the cross-origin hop reached the server");
    const hop2Headers = hop2.map((r) => ({ method: r.method, authorization: r.authorization || undefined }));
    report(t, {
      expected: "no Authorization at 127.0.0.1",
      observed: `echo.authorization=${echo.body.authorization}`,
      echo: echo.body,
      hops: hop2Headers,
    });
    for (const h of hop2Headers) {
      assert.equal(h.authorization, undefined, `${h.method} ${echoURL} carried an Authorization header`);
    }
    assert.equal(echo.body.authorization, false, `the other origin received an Authorization header: ${JSON.stringify(echo.body)}`);
  }),
);
