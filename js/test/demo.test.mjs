// The demo's panels, end to end, once per browser of BROWSERS (Chromium, Firefox, WebKit): the
// session panel (user, claims table, a countdown from auth.getSession(), "Refresh now" through
// auth.refresh()), the API call's scheme, the token-theft panel in worker and page mode, a second
// tab, logout feedback, the demo's one silent sign-in on load (with and without a session at the
// provider), and a new tab after every tab closed: signed in again silently, nothing persisted.
//
// Observes through the pages (DOM text and attributes, evaluate) and the dev server's records
// (/__test/stats, the OP's issued tokens), never network events. Own dev server, ports
// E2E_APP_PORT/E2E_OP_PORT (default 18080/19090) like e2e.test.mjs: run one file at a time.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import {
  USERNAME,
  PASSWORD,
  assertDumpClean,
  forEachBrowser,
  navigateAndWait,
  pageDump,
  startServer,
  tokenCheck,
  waitReady,
  withSession,
} from "./harness.mjs";

const TEST_TIMEOUT_MS = 150_000;

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

const grants = (stats, kind) => stats.grants?.[kind] ?? 0;
const opPath = (stats, path) => stats.requests?.[path] ?? 0;
const text = async (page, sel) => ((await page.textContent(sel)) || "").replace(/\s+/g, " ").trim();

/** Opens the app at path in a new tab of context and waits until it rendered (after any silent sign-in). */
async function openApp(context, path = "/") {
  const p = await context.newPage();
  await p.goto(`${server.appOrigin}${path}`);
  await waitReady(p, { timeout: 30_000 });
  return p;
}

/** On the OP's login form (the page is there): signs in and waits for the app's rendering. */
async function fillLoginForm(page) {
  await page.waitForSelector("#username");
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await navigateAndWait(page, () => page.click("#sign-in"));
}

async function containment(context) {
  const check = await tokenCheck(server);
  for (const p of await context.pages()) {
    if (p.isClosed()) continue;
    const u = await p.url();
    if (!u.startsWith(server.appOrigin)) continue;
    const dump = await pageDump(p);
    for (const k of ["local", "session", "cookie", "historyState", "url", "dom"]) check(k, dump[k]);
    assertDumpClean(dump, check);
  }
}

forEachBrowser((name, browser) => {
  const demo = (title, fn) =>
    test(`[${name}] ${title}`, { timeout: TEST_TIMEOUT_MS }, (t) => withSession(t, server, browser(), (s) => fn(s, t)));

  demo("every panel: silent attempt, session, countdown, Refresh now, API scheme, steal attempt, second tab, logout", async (s, t) => {
    const { context, page } = s;
    const issuerOrigin = new URL(server.config.issuer).origin;

    // 1. A fresh browser: the demo tries one silent sign-in, the provider has no session.
    const s0 = await server.stats();
    await page.goto(`${server.appOrigin}/`);
    await waitReady(page, { timeout: 30_000 });
    await page.waitForSelector('#status[data-state="signed-out"]');
    assert.equal(await page.getAttribute("#notice", "data-kind"), "silent-none");
    assert.match(await text(page, "#notice"), /no session at the provider/);
    assert.equal(await page.getAttribute("#error", "data-code"), "", "no error shown for login_required");
    const s1 = await server.stats();
    assert.equal(opPath(s1, new URL(server.discovery.authorization_endpoint).pathname) - opPath(s0, new URL(server.discovery.authorization_endpoint).pathname), 1, "one prompt=none request");
    assert.equal(grants(s1, "authorization_code"), grants(s0, "authorization_code"), "no code grant");
    // Reloaded in this tab, the demo does not try again (the marker holds for 5 minutes).
    await page.reload();
    await waitReady(page);
    assert.equal(opPath(await server.stats(), new URL(server.discovery.authorization_endpoint).pathname), opPath(s1, new URL(server.discovery.authorization_endpoint).pathname), "no second silent attempt");

    // 2. Sign in through the form: the session panel.
    await page.click("#login");
    await page.waitForURL((u) => u.origin === issuerOrigin);
    await fillLoginForm(page);
    await page.waitForSelector('#status[data-state="signed-in"]');
    const claims = JSON.parse(await page.textContent("#claims"));
    const who = claims.name || claims.sub;
    assert.match(await text(page, "#session-user"), new RegExp(who));
    assert.match(await text(page, '#claims-table tr[data-claim="sub"]'), new RegExp(claims.sub));
    const expRow = await text(page, '#claims-table tr[data-claim="exp"]');
    assert.match(expRow, new RegExp(String(new Date(claims.exp * 1000).getFullYear())), `exp shown as a date: ${expRow}`);
    assert.ok(!expRow.includes(String(claims.exp)), "exp is not shown as a number");
    assert.equal(await page.count('#claims-table tr[data-claim="iat"] time'), 1, "iat shown as a <time>");
    // A SharedWorker, except on WebKit, where each tab gets a dedicated Worker (README).
    const runsIn = s.browserName === "webkit" ? "worker" : "shared-worker";
    assert.equal(await page.getAttribute("#session-runs", "data-mode"), runsIn, "runs in the worker the client chose");
    assert.equal(await page.evaluate(() => window.auth.runsIn), runsIn, "auth.runsIn");
    assert.match(await text(page, "#session-runs"), runsIn === "worker" ? /dedicated worker/ : /shared worker/);
    assert.match(await text(page, "#session-scope"), /openid/);
    assert.match(await text(page, "#session-refreshable"), /held/);

    // The countdown decreases.
    const secs1 = Number(await page.getAttribute("#session-expiry", "data-seconds"));
    assert.ok(secs1 > 0, `a lifetime is shown: ${secs1}`);
    await sleep(2_500);
    const secs2 = Number(await page.getAttribute("#session-expiry", "data-seconds"));
    assert.ok(secs2 < secs1, `the countdown decreases: ${secs1} → ${secs2}`);
    assert.match(await text(page, "#session-expiry"), /expires in \d+:\d\d/);

    // 3. Refresh now: one refresh grant at the OP, a tokenRefreshed entry, a fresh countdown.
    const r0 = await server.stats();
    await page.click("#refresh-now");
    await page.waitForSelector('#event-log li[data-event="tokenRefreshed"]');
    await page.waitForSelector("#refresh-now:not([disabled])");
    const r1 = await server.stats();
    assert.equal(grants(r1, "refresh_token") - grants(r0, "refresh_token"), 1, "one refresh grant");
    assert.match(await text(page, '#event-log li[data-event="tokenRefreshed"]'), /tokenRefreshed/);
    const secs3 = Number(await page.getAttribute("#session-expiry", "data-seconds"));
    assert.ok(secs3 > secs2, `a new lifetime after the refresh: ${secs2} → ${secs3}`);
    assert.equal(await page.getAttribute("#error", "data-code"), "");

    // 4. The API call: 200, and the scheme the API received.
    await page.click("#call-api");
    await page.waitForSelector('#api-result[data-status="200"]');
    assert.equal(await text(page, "#api-scheme"), "Bearer");
    assert.equal(JSON.parse(await page.textContent("#api-result")).sub, claims.sub);

    // 5. The steal attempt finds nothing in worker mode.
    await page.click("#steal");
    await page.waitForSelector('#steal-result[data-found="no"]');
    assert.match(await text(page, "#steal-result"), /^Nothing found/);

    // 6. A second tab (the demo's link): the same session, no visit to the OP. (On WebKit each tab
    // has its own dedicated worker — README, Browsers — so the demo signs it in silently instead.)
    const href = await page.getAttribute("#second-tab", "href");
    assert.equal(await page.getAttribute("#second-tab", "target"), "_blank");
    const a0 = await server.stats();
    const tab2 = await openApp(context, href);
    await tab2.waitForSelector('#status[data-state="signed-in"]');
    if (s.browserName === "webkit") {
      assert.equal(await tab2.getAttribute("#notice", "data-kind"), "silent-ok");
      assert.equal((await server.stats()).grants.authorization_code, a0.grants.authorization_code + 1, "the second tab's own silent sign-in");
    } else {
      assert.equal(await tab2.getAttribute("#notice", "data-kind"), "joined");
      assert.deepEqual((await server.stats()).grants, a0.grants, "no token grant for the second tab");
    }

    // The panel's switch to the weaker mode (tested in its own context below).
    assert.equal(await page.getAttribute("#isolation-switch", "href"), "/?isolation=page");

    // 8. Logout in tab 1: back from the provider, "Signed out"; tab 2 logs signedOut.
    await navigateAndWait(page, () => page.click("#logout"));
    await page.waitForSelector('#status[data-state="signed-out"]');
    assert.equal(await page.getAttribute("#notice", "data-kind"), "signed-out");
    assert.match(await text(page, "#notice"), /^Signed out/);
    assert.equal(await page.getAttribute("#error", "data-code"), "");
    await tab2.waitForSelector('#status[data-state="signed-out"]');
    await tab2.waitForSelector('#event-log li[data-event="signedOut"]');
    assert.match(await text(tab2, '#event-log li[data-event="signedOut"]'), /signedOut — reason: other_tab/);

    // 9. A fresh tab after the logout: the silent attempt finds no session at the provider
    // (the logout ended it there too).
    const l0 = await server.stats();
    const tab4 = await openApp(context, "/");
    await tab4.waitForSelector('#status[data-state="signed-out"]');
    assert.equal(await tab4.getAttribute("#notice", "data-kind"), "silent-none");
    assert.match(await text(tab4, "#notice"), /no session at the provider/);
    assert.deepEqual((await server.stats()).grants, l0.grants, "no token grant");

    await containment(context);
  });

  demo("steal attempt in page mode (the demo's switch): the hooks see the token, the panel says where, not what", async (s, t) => {
    const { page } = s;
    const issuerOrigin = new URL(server.config.issuer).origin;
    await page.goto(`${server.appOrigin}/?isolation=page&silent=0`);
    await waitReady(page);
    await page.waitForSelector('#status[data-state="signed-out"]');
    assert.equal(await page.getAttribute("#session-runs", "data-mode"), "page");
    assert.equal(await page.getAttribute("#isolation-switch", "href"), "/?isolation=worker", "and a switch back");
    await page.click("#login");
    await page.waitForURL((u) => u.origin === issuerOrigin);
    await fillLoginForm(page);
    await page.waitForSelector('#status[data-state="signed-in"]');
    assert.match(await text(page, "#session-runs"), /this page/);
    await page.click("#steal");
    await page.waitForSelector('#steal-result[data-found="yes"]');
    const found = await text(page, "#steal-result");
    assert.match(found, /^Found a token/);
    assert.match(found, /⚠ token seen/);
    t.diagnostic(`[${name}] page mode: ${found.split(". ")[0]}`);
    // Only where, never the value.
    const check = await tokenCheck(server);
    check("the steal panel", await page.textContent("#steal-result"));
  });

  demo("all tabs closed, a new tab: signed in again silently, no login form, nothing persisted", async (s) => {
    const { context, page } = s;
    const issuerOrigin = new URL(server.config.issuer).origin;
    // A blank tab that outlives the app's (WebDriver ends a session whose last window closes); it
    // holds no app document, so the app's shared worker ends with the app's last tab.
    const spare = await context.newPage();
    await page.goto(`${server.appOrigin}/?silent=0`);
    await waitReady(page);
    await page.waitForSelector('#status[data-state="signed-out"]');
    await page.click("#login");
    await page.waitForURL((u) => u.origin === issuerOrigin);
    await fillLoginForm(page);
    await page.waitForSelector('#status[data-state="signed-in"]');
    const sub = JSON.parse(await page.textContent("#claims")).sub;

    // Every tab closed: the worker, and the session, end with the last one.
    await page.close();
    await sleep(1_500);
    const s0 = await server.stats();
    await spare.goto(`${server.appOrigin}/`);
    await waitReady(spare, { timeout: 30_000 });
    const tab = spare;
    await tab.waitForSelector('#status[data-state="signed-in"]');
    const s1 = await server.stats();
    assert.equal(await tab.getAttribute("#notice", "data-kind"), "silent-ok");
    assert.match(await text(tab, "#notice"), /signed in silently/i);
    // With a live SSO session the OP's /login passes the browser straight on (one GET); a sign-in
    // through the form takes two requests (GET the form, POST it). No test code filled it either.
    assert.ok(opPath(s1, "/login") - opPath(s0, "/login") <= 1, "the OP's login form was not submitted");
    assert.equal(grants(s1, "authorization_code") - grants(s0, "authorization_code"), 1, "one code grant (prompt=none)");
    assert.equal(JSON.parse(await tab.textContent("#claims")).sub, sub, "the same user");
    assert.equal(await tab.getAttribute("#error", "data-code"), "");

    // Nothing of it persisted in the app's origin: storage, IndexedDB, cookies hold no issued token.
    await containment(context);
  });
});
