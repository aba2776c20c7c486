// A minimal Chrome DevTools Protocol driver for `make bench`, over --remote-debugging-pipe.
//
// Why not playwright-core (which the e2e tests use): Playwright enables the Network domain on every
// page it drives and forwards each request's events to Node. That costs the renderer and browser
// about a millisecond per request on this 2-core machine, the same for native fetch and for the
// wrapped one, which would flatten the P3 ratios and add a cost per request to P2 and P5. This
// driver only uses Target, Page.navigate and Runtime.evaluate: the pages run uninstrumented.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Flags as playwright-core passes them for a quiet, deterministic headless Chromium. */
const QUIET_FLAGS = [
  "--headless",
  "--disable-field-trial-config",
  "--disable-background-networking",
  "--disable-background-timer-throttling",
  "--disable-backgrounding-occluded-windows",
  "--disable-back-forward-cache",
  "--disable-breakpad",
  "--disable-component-extensions-with-background-pages",
  "--disable-component-update",
  "--no-default-browser-check",
  "--disable-default-apps",
  "--disable-extensions",
  "--disable-hang-monitor",
  "--disable-ipc-flooding-protection",
  "--disable-popup-blocking",
  "--disable-prompt-on-repost",
  "--disable-renderer-backgrounding",
  "--metrics-recording-only",
  "--no-first-run",
  "--password-store=basic",
  "--use-mock-keychain",
  "--no-service-autorun",
  "--disable-search-engine-choice-screen",
];

export class Browser {
  /** Launches executable with args (plus QUIET_FLAGS) and connects over the debugging pipe. */
  static async launch(executable, args = []) {
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), "pkce-bench-chromium-"));
    const child = spawn(executable, [...QUIET_FLAGS, ...args, `--user-data-dir=${userDataDir}`, "--remote-debugging-pipe", "about:blank"], {
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
    });
    const b = new Browser(child, userDataDir);
    await b.send("Target.setDiscoverTargets", { discover: false });
    return b;
  }

  constructor(child, userDataDir) {
    this.child = child;
    this.userDataDir = userDataDir;
    this.nextId = 1;
    this.pending = new Map();
    this.stderr = [];
    this.closed = false;
    child.stderr.on("data", (c) => {
      this.stderr.push(String(c));
      if (this.stderr.length > 50) this.stderr.shift();
    });
    let buf = Buffer.alloc(0);
    child.stdio[4].on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (let i; (i = buf.indexOf(0)) >= 0; buf = buf.subarray(i + 1)) this.dispatch(JSON.parse(buf.subarray(0, i).toString("utf8")));
    });
    child.on("exit", () => {
      this.closed = true;
      for (const { reject } of this.pending.values()) reject(new Error(`Chromium exited\n${this.stderr.join("")}`));
      this.pending.clear();
    });
    this.killOnExit = () => child.kill("SIGKILL");
    process.on("exit", this.killOnExit);
  }

  dispatch(msg) {
    const p = msg.id && this.pending.get(msg.id);
    if (!p) return; // events: not subscribed to any
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}${msg.error.data ? ` (${msg.error.data})` : ""}`));
    else p.resolve(msg.result);
  }

  send(method, params = {}, sessionId = undefined) {
    if (this.closed) return Promise.reject(new Error("Chromium is not running"));
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(`${JSON.stringify(msg)}\0`);
    });
  }

  async version() {
    return (await this.send("Browser.getVersion")).product;
  }

  /** A fresh browser context (own cookies, storage and HTTP cache) with one page. */
  async newPage() {
    const { browserContextId } = await this.send("Target.createBrowserContext", { disposeOnDetach: true });
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank", browserContextId });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    return new Page(this, browserContextId, sessionId);
  }

  async close() {
    process.off("exit", this.killOnExit);
    if (!this.closed) {
      await this.send("Browser.close").catch(() => {});
      const exited = new Promise((r) => this.child.once("exit", r));
      if ((await Promise.race([exited, sleep(5_000, "timeout")])) === "timeout") this.child.kill("SIGKILL");
    }
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

export class Page {
  constructor(browser, contextId, sessionId) {
    this.browser = browser;
    this.contextId = contextId;
    this.sessionId = sessionId;
  }

  send(method, params) {
    return this.browser.send(method, params, this.sessionId);
  }

  async goto(url) {
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
  }

  /** Evaluates expression (awaiting a Promise); returns its JSON value. Throws the page's exception. */
  async evaluate(expression) {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) {
      const e = r.exceptionDetails;
      throw new Error(`page: ${(e.exception && (e.exception.description || e.exception.value)) || e.text}`);
    }
    return r.result.value;
  }

  /** Polls expression until it is truthy (navigations in between are tolerated); returns its value. */
  async waitFor(expression, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    while (Date.now() < deadline) {
      try {
        const v = await this.evaluate(expression);
        if (v) return v;
      } catch (err) {
        last = err; // the document changed under us; try again
      }
      await sleep(20);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}${last ? ` (last error: ${last.message})` : ""}`);
  }

  async close() {
    await this.browser.send("Target.disposeBrowserContext", { browserContextId: this.contextId }).catch(() => {});
  }
}
