// The npm package as a consumer gets it: `npm pack`, installed into a scratch Vite project, bundled
// by Vite, run in Chromium against the dev server. Chromium only (playwright-harness.mjs: the
// tests read the page's console and the React test follows a popup's events). The classic-script
// (IIFE) build is tested in every browser by iife.test.mjs.
//
// Prerequisites: `make build` (js/dist; bin/devserver) and `npm ci` in js/
// (vite). Works offline: the tarball has no dependencies and Vite is js/node_modules' own.
// Env: PACKAGE_APP_PORT / PACKAGE_OP_PORT / PACKAGE_VITE_PORT (18380/19390/18381), CHROMIUM_PATH.
//
// The built app is served at the root of the app origin through the dev server's -root flag: a
// temporary root whose demo/ is Vite's output (so /callback, the registered redirect URI, serves
// the app's index.html). The same project also runs under `vite dev` (with optimizeDeps.exclude,
// as the README says) far enough to load the WASM.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CHROMIUM_SKIP, JS_DIR, chromiumTest as test, launchBrowser, newSession, signIn, startServer } from "./playwright-harness.mjs";

const run = promisify(execFile);
const FIXTURES = path.join(JS_DIR, "test", "fixtures");
const APP_PORT = Number(process.env.PACKAGE_APP_PORT || 18380);
const OP_PORT = Number(process.env.PACKAGE_OP_PORT || 19390);
const VITE_DEV_PORT = Number(process.env.PACKAGE_VITE_PORT || 18381);
const TEST_TIMEOUT_MS = 60_000;

/** What a consumer needs, and all the tarball may hold (README/LICENSE files aside). */
const EXPECTED_FILES = [
  "package.json",
  "dist/pkce-wasm.js",
  "dist/pkce-wasm.worker.js",
  "dist/pkce-wasm.d.ts",
  "dist/wasm_exec.js",
  "dist/pkce.wasm",
  "dist/pkce-wasm.iife.js",
  "dist/pkce-wasm.iife.d.ts",
  "dist/react.js",
  "dist/react.d.ts",
];
/** Required beside them: the license and the package's README. */
const REQUIRED_DOCS = ["LICENSE", "README.md"];

let tmp; // everything temporary lives here
let app; // the scratch Vite project
let pack; // npm pack --json entry: { filename, size, unpackedSize, files: [{ path, size }] }
let tarball;
let server;
let browser;

async function npm(args, cwd) {
  try {
    return await run("npm", args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: "false" } });
  } catch (err) {
    throw new Error(`npm ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout || ""}\n${err.stderr || ""}`);
  }
}

before(async () => {
  if (CHROMIUM_SKIP) return;
  for (const f of EXPECTED_FILES.filter((f) => f.startsWith("dist/"))) {
    if (!existsSync(path.join(JS_DIR, f))) throw new Error(`${f} missing in ${JS_DIR}: run \`make build\` first`);
  }
  tmp = await mkdtemp(path.join(os.tmpdir(), "pkce-wasm-package-"));

  // 1. The tarball.
  const packDir = path.join(tmp, "pack");
  await mkdir(packDir);
  const { stdout } = await npm(["pack", "--json", "--pack-destination", packDir], JS_DIR);
  [pack] = JSON.parse(stdout.slice(stdout.indexOf("[")));
  tarball = path.join(packDir, pack.filename);

  // 2. A scratch Vite project that installs it (no registry access: the package has no dependencies).
  app = path.join(tmp, "app");
  await cp(path.join(FIXTURES, "vite-app"), app, { recursive: true });
  await writeFile(path.join(app, "package.json"), JSON.stringify({ name: "scratch-app", private: true, type: "module" }));
  await npm(["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], app);

  // 3. Build it with js/node_modules' Vite into the server root's demo/.
  const root = path.join(tmp, "root");
  const { build } = await import("vite");
  await build({
    root: app,
    configFile: false,
    logLevel: "warn",
    build: { outDir: path.join(root, "demo"), emptyOutDir: true },
  });
  // The app loads nothing from /pkce/ (the Vite test checks that); the server wants the directory.
  await mkdir(path.join(root, "js", "dist"), { recursive: true });

  server = await startServer({ appPort: APP_PORT, opPort: OP_PORT, extraArgs: ["-root", root] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function withSession(t, fn) {
  const mark = server.mark();
  const s = await newSession(browser, server);
  try {
    await fn(s);
  } catch (err) {
    const serverLog = server.logSince(mark) || "(empty)";
    console.error(`\n===== ${t.name} failed =====\n${s.diagnostics()}\n--- server log (this test) ---\n${serverLog}\n===== end =====\n`);
    throw err;
  } finally {
    await s.context.close().catch(() => {});
  }
}

test("npm pack: only what a consumer needs, and every exports target is in it", async () => {
  const files = pack.files.map((f) => f.path).filter((p) => !/^(README|LICENSE|LICENCE)(\.|$)/i.test(p));
  assert.deepEqual([...files].sort(), [...EXPECTED_FILES].sort(), `tarball files: ${files.join(", ")}`);
  for (const f of REQUIRED_DOCS) assert.ok(pack.files.some((x) => x.path === f), `${f} is in the tarball (LICENSE: npm's prepack copies ../LICENSE)`);
  console.log(
    `${pack.filename}: ${pack.size} bytes packed, ${pack.unpackedSize} unpacked\n` +
      pack.files.map((f) => `  ${String(f.size).padStart(9)}  ${f.path}`).join("\n"),
  );

  const installed = path.join(tmp, "app", "node_modules", "pkce-wasm");
  const pkg = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8"));
  const targets = [];
  const walk = (v) => (typeof v === "string" ? targets.push(v) : Object.values(v).forEach(walk));
  walk(pkg.exports);
  for (const target of [...targets, pkg.types]) {
    assert.ok(existsSync(path.join(installed, target)), `exports target ${target} is in the tarball`);
  }
  for (const [sub, conds] of Object.entries(pkg.exports)) {
    if (typeof conds === "object") assert.equal(Object.keys(conds)[0], "types", `exports["${sub}"]: "types" comes first`);
  }
  // pkce-wasm.js needs wasm_exec.js only for its side effect: bundlers must not drop it.
  assert.ok(pkg.sideEffects === undefined || pkg.sideEffects.includes("./dist/wasm_exec.js"), "wasm_exec.js keeps its side effects");
});

/** The paths the app origin served, from the server's access log lines. */
function appPaths(log) {
  return [...log.matchAll(/msg=app method=GET path=(\S+)/g)].map((m) => m[1]);
}

test("Vite app bundling the tarball: sign in at the OP, back signed in, /api/me → 200", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { page } = s;
    const mark = server.mark();
    const { claims } = await signIn(s, server);
    await page.click("#call-api");
    await page.locator('#api-result[data-status="200"]').waitFor();
    const body = JSON.parse(await page.locator("#api-result").textContent());
    assert.equal(body.sub, claims.sub, "/api/me answers for the signed-in user");

    // The worker and the WASM came from Vite's hashed assets, not from the dev server's /pkce/
    // (the worker fetches the WASM: read the server's access log, not the page's requests).
    const served = appPaths(server.logSince(mark));
    const wasm = served.filter((p) => p.endsWith(".wasm"));
    assert.ok(wasm.length > 0 && wasm.every((p) => /^\/assets\/pkce-[\w-]+\.wasm$/.test(p)), `wasm requests: ${wasm}`);
    const worker = served.filter((p) => /worker/.test(p));
    assert.ok(worker.length > 0 && worker.every((p) => /^\/assets\/pkce-wasm\.worker-[\w-]+\.js$/.test(p)), `worker requests: ${worker}`);
    assert.ok(!served.some((p) => p.startsWith("/pkce/")), `nothing loaded from /pkce/: ${served}`);
    assert.ok(!s.consoleLines.some((l) => /instantiateStreaming failed|pageerror/.test(l)), s.consoleLines.join("\n"));
  }),
);

test("vite dev with optimizeDeps.exclude: pkce.wasm resolves next to the module, a client is created", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { createServer } = await import("vite");
    const served = []; // what the Vite dev server served (the worker's requests included)
    const dev = await createServer({
      plugins: [{ name: "record", configureServer(srv) { srv.middlewares.use((req, _res, next) => { served.push(req.url.split("?")[0]); next(); }); } }],
      root: app,
      configFile: false,
      logLevel: "warn",
      // Pre-bundling would move pkce-wasm.js to node_modules/.vite/deps/ and break its
      // new URL("./pkce.wasm", import.meta.url).
      optimizeDeps: { exclude: ["pkce-wasm"] },
      server: { port: VITE_DEV_PORT, strictPort: true, host: "localhost", proxy: { "/config.json": server.appOrigin } },
    });
    await dev.listen();
    try {
      const { page } = s;
      await page.goto(`http://localhost:${VITE_DEV_PORT}/`);
      await page.locator('body[data-ready="true"]').waitFor({ state: "attached" });
      assert.equal(await page.locator("#error").getAttribute("data-code"), "", await page.locator("#error").textContent());
      await page.locator('#status[data-state="signed-out"]').waitFor();
      const wasm = served.filter((p) => p.endsWith(".wasm"));
      assert.deepEqual([...new Set(wasm)], ["/node_modules/pkce-wasm/dist/pkce.wasm"]);
    } finally {
      await dev.close();
    }
  }),
);

// pkce-wasm/react: a scratch Vite app that installs the tarball with react and react-dom, renders an
// <AuthProvider> inside <StrictMode> (built in development mode: effects run twice) and signs in.
// It has its own dev server (PACKAGE_REACT_APP_PORT / PACKAGE_REACT_OP_PORT, 18382/19392) whose
// root's demo/ is the React build, so that /callback, the registered redirect URI, serves it.
import { PASSWORD, USERNAME } from "./harness.mjs";

const REACT_APP_PORT = Number(process.env.PACKAGE_REACT_APP_PORT || 18382);
const REACT_OP_PORT = Number(process.env.PACKAGE_REACT_OP_PORT || 19392);

test("React (pkce-wasm/react) in StrictMode, Vite-built: callback handled once, signed in, API 200, no token in the DOM", { timeout: 180_000 }, async (t) => {
  const reactApp = path.join(tmp, "react-app");
  await cp(path.join(FIXTURES, "vite-react-app"), reactApp, { recursive: true });
  await writeFile(path.join(reactApp, "package.json"), JSON.stringify({ name: "scratch-react-app", private: true, type: "module" }));
  // The React versions js/ itself installed (in npm's cache already: no registry access needed).
  const version = async (name) => JSON.parse(await readFile(path.join(JS_DIR, "node_modules", name, "package.json"), "utf8")).version;
  const deps = [tarball, `react@${await version("react")}`, `react-dom@${await version("react-dom")}`];
  await npm(["install", ...deps, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], reactApp);

  const root = path.join(tmp, "react-root");
  await mkdir(path.join(root, "js", "dist"), { recursive: true });
  const { build } = await import("vite");
  await build({
    root: reactApp,
    configFile: false,
    logLevel: "warn",
    mode: "development",
    define: { "process.env.NODE_ENV": JSON.stringify("development") }, // React's development build: StrictMode double-invokes
    build: { outDir: path.join(root, "demo"), emptyOutDir: true, minify: false },
  });

  const reactServer = await startServer({ appPort: REACT_APP_PORT, opPort: REACT_OP_PORT, extraArgs: ["-root", root] });
  const mark = reactServer.mark();
  const s = await newSession(browser, reactServer);
  try {
    const { page } = s;
    // signIn: the OP's login form, back on /callback, #status signed-in, no #error, and exactly one
    // authorization_code grant at the OP.
    const { claims } = await signIn(s, reactServer);
    assert.equal(await page.evaluate(() => window.__effectRuns), 2, "StrictMode ran the effects twice");
    assert.equal(new URL(page.url()).pathname, "/", "replaced /callback with the returnTo");
    assert.equal(new URL(page.url()).search, "", "no code or state left in the URL");
    assert.match(await page.locator("#status").textContent(), new RegExp(`Signed in as ${claims.name || claims.sub}`));
    assert.equal(await page.locator("#error").getAttribute("data-code"), "", "no error (no state_mismatch from a second callback run)");
    const stats = await reactServer.stats();
    assert.equal(stats.grants?.authorization_code, 1, `one code exchange: ${JSON.stringify(stats.grants)}`);

    await page.click("#call-api");
    await page.locator('#api-result[data-status="200"]').waitFor();
    assert.equal(JSON.parse(await page.locator("#api-result").textContent()).sub, claims.sub, "/api/me answers for the signed-in user");
    const api = await reactServer.apiRequests();
    assert.ok(api.some((r) => r.path === "/api/me" && /^Bearer /.test(r.authorization || "")), `API requests: ${JSON.stringify(api.map((r) => r.path))}`);

    // The hook's state is rendered (#claims, #state): no token the OP issued is anywhere in the page.
    const html = await page.evaluate(() => document.documentElement.outerHTML);
    const issued = await reactServer.issued();
    assert.ok(issued.length >= 2, `the OP issued tokens: ${issued.map((x) => x.kind)}`);
    for (const tok of issued) assert.ok(!html.includes(tok.value), `the ${tok.kind} is not in the DOM`);
    assert.ok(!s.consoleLines.some((l) => /pageerror|state_mismatch/.test(l)), s.consoleLines.join("\n"));

    // Sign out: RP-initiated logout at the OP, back at / signed out.
    const backHome = page.waitForURL((u) => u.origin === reactServer.appOrigin && u.pathname === "/" && u.search === "");
    await page.click("#logout");
    await backHome;
    await page.locator('#status[data-state="signed-out"]').waitFor();

    // loginPopup: the popup's own AuthProvider hands the callback to the worker and closes (no
    // second exchange, no navigation of the opener); the opener's state turns signed-in.
    const popupPromise = page.waitForEvent("popup");
    await page.click("#login-popup");
    const popup = await popupPromise;
    popup.on("console", (m) => s.consoleLines.push(`[popup console.${m.type()}] ${m.text()}`));
    popup.on("pageerror", (e) => s.consoleLines.push(`[popup pageerror] ${e.stack || e.message}`));
    await popup.locator("#username").waitFor();
    await popup.fill("#username", USERNAME);
    await popup.fill("#password", PASSWORD);
    await Promise.all([popup.waitForEvent("close"), popup.click("#sign-in")]);
    await page.locator('#status[data-state="signed-in"]').waitFor();
    assert.equal(await page.locator("#error").getAttribute("data-code"), "");
    assert.equal(new URL(page.url()).pathname, "/", "the opener stayed where it was");
    assert.equal((await reactServer.stats()).grants?.authorization_code, 2, "one more code exchange for the popup login");
    const html2 = await page.evaluate(() => document.documentElement.outerHTML);
    for (const tok of await reactServer.issued()) assert.ok(!html2.includes(tok.value), `the ${tok.kind} is not in the DOM`);
  } catch (err) {
    console.error(`\n===== ${t.name} failed =====\n${s.diagnostics()}\n--- server log (this test) ---\n${reactServer.logSince(mark) || "(empty)"}\n===== end =====\n`);
    throw err;
  } finally {
    await s.context.close().catch(() => {});
    await reactServer.stop();
  }
});
