// One thin browser layer for the e2e tests: Chromium and Firefox through puppeteer-core (CDP and
// WebDriver BiDi), WebKit (WebKitGTK's MiniBrowser) through a small W3C WebDriver client (plain
// fetch to `xvfb-run WebKitWebDriver`). Only Debian's browsers are used; nothing is downloaded.
//
// The API is a SUBSET OF PLAYWRIGHT'S, so that a test reads the same whatever drives the browser:
//
//   launchBrowser(name)          name: "chromium" | "firefox" | "webkit"  → Browser
//   Browser   .name, .newContext(), .close()
//   Context   .newPage(), .pages() (every open tab/popup, async: await it), .close()
//             (an isolated profile: puppeteer BrowserContext; WebKit: one WebDriver session)
//   Page      .goto(url), .reload(), .url() (async for WebKit: always await it), .title()
//             .evaluate(fnOrExpression, arg)   fn is serialised: arg must be JSON, so is the result
//             .waitForFunction(fn, arg, {timeout, polling})  resolves to fn's truthy (JSON) value
//             .waitForURL(predicate(URL) | string, {timeout})
//             .waitForSelector(sel, {state: "attached"|"visible"|"hidden"|"detached", timeout})
//             .click(sel)  (a real click, in the tab brought to the front: it counts as a user
//                          gesture, e.g. for window.open)
//             .fill(sel, value), .textContent(sel), .getAttribute(sel, name), .isVisible(sel),
//             .count(sel), .content(), .close(), .isClosed()
//
// Not here, because classic WebDriver has no equivalent: network/console/worker events, request
// interception (page.route), a fake clock, init scripts. Tests observe through the page (evaluate)
// and the servers' own records (/__test/stats, /__test/flaky).
//
// Env: CHROMIUM_PATH (/usr/bin/chromium), FIREFOX_PATH (/usr/bin/firefox-esr), WEBKIT_DRIVER
// (WebKitWebDriver), MINIBROWSER_PATH (the WebKitGTK MiniBrowser), BROWSERS (see selectedBrowsers).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const BROWSER_NAMES = ["chromium", "firefox", "webkit"];

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const FIREFOX_PATH = process.env.FIREFOX_PATH || "/usr/bin/firefox-esr";
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || "WebKitWebDriver";
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const STEP_TIMEOUT_MS = 20_000;
const POLL_MS = 50;
const SESSION_TIMEOUT_MS = 30_000;

/** The browsers to run: env BROWSERS, a comma list (default: all three). */
export function selectedBrowsers() {
  const raw = (process.env.BROWSERS || BROWSER_NAMES.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
  for (const b of raw) if (!BROWSER_NAMES.includes(b)) throw new Error(`BROWSERS: unknown browser ${JSON.stringify(b)} (known: ${BROWSER_NAMES})`);
  return BROWSER_NAMES.filter((b) => raw.includes(b));
}

export async function launchBrowser(name) {
  if (name === "chromium" || name === "firefox") return launchPuppeteer(name);
  if (name === "webkit") return launchWebKit();
  throw new Error(`launchBrowser: unknown browser ${JSON.stringify(name)}`);
}

/** Source of a function or expression for evaluation in the page, called with one JSON argument. */
function callable(fnOrExpr) {
  return typeof fnOrExpr === "function" ? fnOrExpr.toString() : `() => (${fnOrExpr})`;
}

// ---------------------------------------------------------------------------------------------
// Page helpers shared by both drivers, built on evaluate().

class BasePage {
  async waitForFunction(fn, arg, { timeout = STEP_TIMEOUT_MS, polling = 100 } = {}) {
    const deadline = Date.now() + timeout;
    let lastErr;
    for (;;) {
      try {
        const v = await this.evaluate(fn, arg);
        if (v) return v;
      } catch (err) {
        if (this.isClosed()) throw err;
        lastErr = err; // e.g. the page navigated while evaluating: try again
      }
      if (Date.now() > deadline) {
        throw new Error(`waitForFunction timed out after ${timeout} ms: ${callable(fn).slice(0, 200)}${lastErr ? ` (last error: ${lastErr.message})` : ""}`);
      }
      await sleep(polling);
    }
  }

  async waitForURL(match, { timeout = STEP_TIMEOUT_MS } = {}) {
    const ok = typeof match === "function" ? (u) => match(new URL(u)) : (u) => u === String(match);
    const deadline = Date.now() + timeout;
    let last = "";
    for (;;) {
      try {
        last = await this.url();
        if (last && last !== "about:blank" && ok(last)) return;
      } catch (err) {
        if (this.isClosed()) throw err;
      }
      if (Date.now() > deadline) throw new Error(`waitForURL timed out after ${timeout} ms; last URL ${last.replace(/\?.*/, "?…")}`);
      await sleep(POLL_MS);
    }
  }

  /** state: attached (default) | visible | hidden | detached. */
  waitForSelector(sel, { state = "attached", timeout = STEP_TIMEOUT_MS } = {}) {
    return this.waitForFunction(
      ([s, st]) => {
        const el = document.querySelector(s);
        const visible = !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== "hidden";
        return { attached: !!el, detached: !el, visible, hidden: !visible }[st];
      },
      [sel, state],
      { timeout, polling: POLL_MS },
    );
  }

  async fill(sel, value) {
    await this.waitForSelector(sel, { state: "visible" });
    await this.evaluate(
      ([s, v]) => {
        const el = document.querySelector(s);
        el.focus();
        el.value = v;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      },
      [sel, value],
    );
  }

  async textContent(sel) {
    await this.waitForSelector(sel);
    return this.evaluate((s) => document.querySelector(s)?.textContent ?? null, sel);
  }

  async getAttribute(sel, name) {
    await this.waitForSelector(sel);
    return this.evaluate(([s, n]) => document.querySelector(s)?.getAttribute(n) ?? null, [sel, name]);
  }

  async isVisible(sel) {
    return this.evaluate((s) => {
      const el = document.querySelector(s);
      return !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== "hidden";
    }, sel);
  }

  count(sel) {
    return this.evaluate((s) => document.querySelectorAll(s).length, sel);
  }

  content() {
    return this.evaluate(() => document.documentElement.outerHTML);
  }

  title() {
    return this.evaluate(() => document.title);
  }
}

// ---------------------------------------------------------------------------------------------
// puppeteer-core: Chromium (CDP) and Firefox (WebDriver BiDi)

async function launchPuppeteer(name) {
  const { default: puppeteer } = await import("puppeteer-core");
  const executablePath = name === "chromium" ? CHROMIUM_PATH : FIREFOX_PATH;
  if (!existsSync(executablePath)) throw new Error(`${name} not found at ${executablePath}: run .ci/deps.sh (make deps)`);
  const pb = await puppeteer.launch(
    name === "chromium"
      ? { browser: "chrome", executablePath, headless: true, args: CHROMIUM_ARGS }
      : { browser: "firefox", executablePath, headless: true },
  );
  const wrapped = new WeakMap();
  const wrapPage = (p) => {
    if (!wrapped.has(p)) wrapped.set(p, new PuppeteerPage(p));
    return wrapped.get(p);
  };
  return {
    name,
    async newContext() {
      const ctx = await pb.createBrowserContext();
      return {
        async newPage() {
          return wrapPage(await ctx.newPage());
        },
        async pages() {
          return (await ctx.pages()).map(wrapPage);
        },
        close: () => ctx.close(),
      };
    },
    close: () => pb.close(),
  };
}

class PuppeteerPage extends BasePage {
  constructor(p) {
    super();
    this.p = p;
    p.setDefaultTimeout(STEP_TIMEOUT_MS);
    p.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  }
  async goto(url) {
    await this.p.goto(url, { waitUntil: "load" });
  }
  async reload() {
    await this.p.reload({ waitUntil: "load" });
  }
  url() {
    return this.p.url();
  }
  evaluate(fnOrExpr, arg) {
    if (typeof fnOrExpr === "string") return this.p.evaluate(fnOrExpr);
    return this.p.evaluate(fnOrExpr, arg);
  }
  async click(sel) {
    await this.waitForSelector(sel, { state: "visible" });
    // puppeteer's click waits for the element to be in the viewport (IntersectionObserver), which
    // never reports in a background tab: bring the tab to the front first, as a user would.
    await this.p.bringToFront();
    await this.p.click(sel);
  }
  isClosed() {
    return this.p.isClosed();
  }
  async close() {
    if (!this.p.isClosed()) await this.p.close();
  }
}

// ---------------------------------------------------------------------------------------------
// W3C WebDriver (classic) for WebKitGTK: one WebKitWebDriver under xvfb-run per launchBrowser, one
// session per context, one window handle per page.

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function launchWebKit() {
  if (!existsSync(MINIBROWSER_PATH)) throw new Error(`MiniBrowser not found at ${MINIBROWSER_PATH}: run .ci/deps.sh (webkit2gtk-driver)`);
  const port = await freePort();
  // -a: a free display; detached, so that close() can end xvfb-run, Xvfb and the driver together.
  const child = spawn("xvfb-run", ["-a", WEBKIT_DRIVER, `--port=${port}`], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const log = [];
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  let exited = false;
  child.on("exit", () => (exited = true));
  const kill = () => {
    if (!exited) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    }
  };
  process.on("exit", kill);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`WebKitWebDriver exited: ${log.join("")}`);
    try {
      const r = await fetch(`${base}/status`, { signal: AbortSignal.timeout(1_000) });
      if (r.ok && (await r.json()).value?.ready !== false) break;
    } catch {}
    if (Date.now() > deadline) {
      kill();
      throw new Error(`WebKitWebDriver did not answer on ${base}: ${log.join("")}`);
    }
    await sleep(100);
  }
  const contexts = new Set();
  return {
    name: "webkit",
    async newContext() {
      const ctx = await WebDriverContext.create(base);
      contexts.add(ctx);
      const close = ctx.close.bind(ctx);
      ctx.close = async () => {
        contexts.delete(ctx);
        await close();
      };
      return ctx;
    },
    async close() {
      await Promise.all([...contexts].map((c) => c.close().catch(() => {})));
      kill();
      process.off("exit", kill);
    },
  };
}

class WebDriverError extends Error {}

class WebDriverContext {
  static async create(base) {
    // MiniBrowser starts in under a second here, but once (load average 9 on 2 cores) the new
    // session did not answer within 30 s: give up on such an attempt and try once more.
    let body;
    for (let attempt = 1; ; attempt++) {
      try {
        body = await WebDriverContext.newSession(base);
        break;
      } catch (err) {
        if (attempt >= 2 || err.name !== "TimeoutError") throw err;
      }
    }
    const ctx = new WebDriverContext(`${base}/session/${body.value.sessionId}`);
    await ctx.cmd("POST", "/timeouts", { script: 60_000, pageLoad: STEP_TIMEOUT_MS, implicit: 0 });
    ctx.first = await ctx.cmd("GET", "/window");
    return ctx;
  }

  static async newSession(base) {
    const res = await fetch(`${base}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        capabilities: {
          alwaysMatch: {
            browserName: "MiniBrowser",
            pageLoadStrategy: "normal",
            "webkitgtk:browserOptions": { binary: MINIBROWSER_PATH, args: ["--automation"] },
          },
        },
      }),
      signal: AbortSignal.timeout(SESSION_TIMEOUT_MS),
    });
    const body = await res.json();
    if (!res.ok) throw new WebDriverError(`new WebDriver session: ${JSON.stringify(body.value)}`);
    return body;
  }

  constructor(url) {
    this.url = url;
    this.pagesByHandle = new Map();
    this.current = null;
    this.queue = Promise.resolve();
    this.closed = false;
  }

  /** One WebDriver command (commands of a session run one at a time). */
  cmd(method, path, body) {
    const run = async () => {
      const res = await fetch(this.url + path, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(90_000),
      });
      const json = await res.json().catch(() => ({}));
      if (!res.ok) {
        const v = json.value || {};
        const e = new WebDriverError(`WebDriver ${method} ${path}: ${v.error || res.status}: ${v.message || ""}`);
        e.code = v.error;
        throw e;
      }
      return json.value;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /** Runs fn with page's window selected (atomically with respect to the other pages). */
  inWindow(handle, fn) {
    const run = async () => {
      if (this.current !== handle) {
        await this.rawSwitch(handle);
      }
      return fn();
    };
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => {});
    return p;
  }

  async rawSwitch(handle) {
    await this.cmd("POST", "/window", { handle });
    this.current = handle;
  }

  lock = Promise.resolve();

  pageFor(handle) {
    if (!this.pagesByHandle.has(handle)) this.pagesByHandle.set(handle, new WebDriverPage(this, handle));
    return this.pagesByHandle.get(handle);
  }

  async newPage() {
    if (this.first) {
      const h = this.first;
      this.first = null;
      return this.pageFor(h);
    }
    const { handle } = await this.cmd("POST", "/window/new", { type: "tab" });
    return this.pageFor(handle);
  }

  /** The open windows (tabs and popups) of this session. */
  async pages() {
    const handles = await this.cmd("GET", "/window/handles");
    for (const [h, p] of this.pagesByHandle) if (!handles.includes(h)) p.closed = true;
    return handles.filter((h) => h !== this.first).map((h) => this.pageFor(h));
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.cmd("DELETE", "");
  }
}

class WebDriverPage extends BasePage {
  constructor(ctx, handle) {
    super();
    this.ctx = ctx;
    this.handle = handle;
    this.closed = false;
  }
  run(method, path, body) {
    return this.ctx.inWindow(this.handle, () => this.ctx.cmd(method, path, body)).catch((err) => {
      if (err.code === "no such window") this.closed = true;
      throw err;
    });
  }
  async goto(url) {
    await this.run("POST", "/url", { url });
  }
  async reload() {
    await this.run("POST", "/refresh", {});
  }
  url() {
    return this.run("GET", "/url");
  }
  async evaluate(fnOrExpr, arg) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${callable(fnOrExpr)})(arguments[0])).then(
        (v) => done({ ok: v === undefined ? null : v }),
        (e) => done({ err: String((e && e.stack) || e) }));`;
    const r = await this.run("POST", "/execute/async", { script, args: [arg === undefined ? null : arg] });
    if (r && "err" in r) throw new Error(`evaluate: ${r.err}`);
    return r ? r.ok : r;
  }
  async click(sel) {
    await this.waitForSelector(sel, { state: "visible" });
    const el = await this.run("POST", "/element", { using: "css selector", value: sel });
    const id = Object.values(el)[0];
    await this.run("POST", `/element/${id}/click`, {});
  }
  isClosed() {
    return this.closed;
  }
  async close() {
    if (this.closed) return;
    await this.run("DELETE", "/window");
    this.closed = true;
    this.ctx.current = null;
  }
}
