// The npm package as a consumer gets it: `npm pack`, installed into a scratch Vite project, bundled
// by Vite, run in Chromium against the dev server; and the classic-script (IIFE) build.
//
// Prerequisites: `make build` (js/dist with pkce-wasm.iife.js; bin/devserver) and `npm ci` in js/
// (vite). Works offline: the tarball has no dependencies and Vite is js/node_modules' own.
// Env: PACKAGE_APP_PORT / PACKAGE_OP_PORT / PACKAGE_VITE_PORT (18380/19390/18381), CHROMIUM_PATH.
//
// The built app is served at the root of the app origin through the dev server's -root flag: a
// temporary root whose demo/ is Vite's output (so /callback, the registered redirect URI, serves
// the app's index.html) plus demo/iife/ (the classic-script page), and whose js/dist (/pkce/) is
// the installed package's dist/ plus .br/.gz variants. The same project also runs under
// `vite dev` (with optimizeDeps.exclude, as the README says) far enough to load the WASM.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { CHROMIUM_SKIP, JS_DIR, chromiumTest as test, launchBrowser, newSession, signIn, startServer } from "./playwright-harness.mjs";

const run = promisify(execFile);
const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);
const FIXTURES = path.join(JS_DIR, "test", "fixtures");
const APP_PORT = Number(process.env.PACKAGE_APP_PORT || 18380);
const OP_PORT = Number(process.env.PACKAGE_OP_PORT || 19390);
const VITE_DEV_PORT = Number(process.env.PACKAGE_VITE_PORT || 18381);
const TEST_TIMEOUT_MS = 60_000;

/** What a consumer needs, and all the tarball may hold (README/LICENSE files aside). */
const EXPECTED_FILES = [
  "package.json",
  "dist/pkce-wasm.js",
  "dist/pkce-wasm.d.ts",
  "dist/wasm_exec.js",
  "dist/pkce.wasm",
  "dist/pkce-wasm.iife.js",
  "dist/pkce-wasm.iife.d.ts",
];

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
  await cp(path.join(FIXTURES, "iife"), path.join(root, "demo", "iife"), { recursive: true });

  // 4. /pkce/ serves the files as packed (a snapshot: js/dist may be rebuilt meanwhile), with
  //    .br/.gz variants written after them, as `make bundle` does (lower brotli quality: speed).
  const dist = path.join(root, "js", "dist");
  await cp(path.join(app, "node_modules", "pkce-wasm", "dist"), dist, { recursive: true });
  for (const f of ["pkce.wasm", "pkce-wasm.iife.js"]) {
    const data = await readFile(path.join(dist, f));
    await writeFile(path.join(dist, `${f}.gz`), await gzip(data, { level: 9 }));
    await writeFile(path.join(dist, `${f}.br`), await brotli(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }));
  }

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

test("Vite app bundling the tarball: sign in at the OP, back signed in, /api/me → 200", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { page } = s;
    const { claims } = await signIn(s, server);
    await page.click("#call-api");
    await page.locator('#api-result[data-status="200"]').waitFor();
    const body = JSON.parse(await page.locator("#api-result").textContent());
    assert.equal(body.sub, claims.sub, "/api/me answers for the signed-in user");

    // The WASM came from Vite's hashed asset, not from the dev server's /pkce/.
    const wasm = s.requests.filter((r) => new URL(r.url).pathname.endsWith(".wasm")).map((r) => new URL(r.url).pathname);
    assert.ok(wasm.length > 0 && wasm.every((p) => /^\/assets\/pkce-[\w-]+\.wasm$/.test(p)), `wasm requests: ${wasm}`);
    assert.ok(!s.requests.some((r) => new URL(r.url).pathname.startsWith("/pkce/")), "nothing loaded from /pkce/");
    assert.ok(!s.consoleLines.some((l) => /instantiateStreaming failed|pageerror/.test(l)), s.consoleLines.join("\n"));
  }),
);

test("IIFE: <script src=/pkce/pkce-wasm.iife.js> finds pkce.wasm next to it and reaches the OP login", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { page } = s;
    const wasmResponse = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(".wasm"));
    await page.goto(`${server.appOrigin}/iife/`);
    await page.locator('body[data-ready="true"]').waitFor({ state: "attached" });
    assert.equal(await page.evaluate(() => document.body.dataset.error), undefined, "no error while loading");
    assert.equal(await page.evaluate(() => document.body.dataset.badConfig), "invalid_config", "rejects with PkceWasm.PkceWasmError");
    assert.deepEqual(await page.evaluate(() => Object.keys(window.PkceWasm).sort()), ["PkceWasmError", "create", "isCallback"]);

    // Resolved against the script's URL (/pkce/), not the page's (/iife/); served precompressed,
    // with the type instantiateStreaming needs.
    const res = await wasmResponse;
    assert.equal(new URL(res.url()).pathname, "/pkce/pkce.wasm");
    const h = await res.allHeaders();
    assert.equal(h["content-type"], "application/wasm");
    assert.ok(["br", "gzip"].includes(h["content-encoding"]), `pkce.wasm Content-Encoding ${h["content-encoding"]}`);
    t.diagnostic(`pkce.wasm arrived with Content-Encoding ${h["content-encoding"]}`);
    assert.match(h["etag"] || "", /^"[0-9a-f]{32}"$/);
    assert.equal(h["cache-control"], "no-cache");
    assert.ok(!s.consoleLines.some((l) => /instantiateStreaming failed|pageerror/.test(l)), s.consoleLines.join("\n"));

    const issuerOrigin = new URL(server.config.issuer).origin;
    const authRequest = page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).origin === issuerOrigin);
    await page.click("#login");
    const q = new URL((await authRequest).url()).searchParams;
    assert.equal(q.get("client_id"), server.config.clientId);
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.equal(q.get("redirect_uri"), server.config.redirectUri);
    await page.locator("#username").waitFor();
    assert.equal(new URL(page.url()).origin, issuerOrigin, "on the OP's login page");
  }),
);

test("vite dev with optimizeDeps.exclude: pkce.wasm resolves next to the module, a client is created", { timeout: TEST_TIMEOUT_MS }, (t) =>
  withSession(t, async (s) => {
    const { createServer } = await import("vite");
    const dev = await createServer({
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
      const wasm = s.requests.filter((r) => new URL(r.url).pathname.endsWith(".wasm")).map((r) => new URL(r.url).pathname);
      assert.deepEqual(wasm, ["/node_modules/pkce-wasm/dist/pkce.wasm"]);
    } finally {
      await dev.close();
    }
  }),
);
