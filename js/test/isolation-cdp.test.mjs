// Isolation, the part that needs CDP (Chromium only): the client's SharedWorker killed from outside
// mid-request. No page script can end a SharedWorker and classic WebDriver cannot either, so this
// runs where the driver can close the worker's target. Everything else about isolation — the
// injected-script suite, dedicated-worker mode, bodies, Response details, a missing worker
// script — is in isolation.test.mjs, in every browser.
//
// Env: ISOLATION_CDP_APP_PORT / ISOLATION_CDP_OP_PORT (18680/19690).

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { CHROMIUM_SKIP, attemptSignIn, chromiumTest as test, launchBrowser, startServer, withSession } from "./playwright-harness.mjs";

const TEST_TIMEOUT_MS = 120_000;

let server;
let browser;

before(async () => {
  if (CHROMIUM_SKIP) return;
  server = await startServer({
    appPort: Number(process.env.ISOLATION_CDP_APP_PORT || 18680),
    opPort: Number(process.env.ISOLATION_CDP_OP_PORT || 19690),
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("failure: the worker killed mid-request: pending calls reject worker_lost, signedOut fires, a new worker serves the next call", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, server, browser, async (s) => {
    const { page } = s;
    const r = await attemptSignIn(s, server);
    assert.equal(r.errorCode, "", `sign-in failed: ${r.errorText}`);
    await page.locator('#status[data-state="signed-in"]').waitFor();
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
  }),
);
