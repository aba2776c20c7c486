// Unit tests of the page loader's own logic under Node (no browser): the callback rule shared with
// Go (wasm/core/testdata/iscallback.json, also read by core's TestIsCallbackURL), the worker name,
// and the error class.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT } from "./harness.mjs";
import { PkceWasm, PkceWasmError, _workerSupport } from "../dist/pkce-wasm.js"; // as built (make build), next to wasm_exec.js

test("isCallback follows the one callback rule (the vectors core.IsCallbackURL is tested with)", async () => {
  const vectors = JSON.parse(await readFile(path.join(REPO_ROOT, "wasm/core/testdata/iscallback.json"), "utf8"));
  assert.ok(vectors.length >= 12, "the shared vectors are there");
  for (const v of vectors) {
    assert.equal(PkceWasm.isCallback(v.url), v.callback, `isCallback(${JSON.stringify(v.url)}) (${v.name || ""})`);
  }
});

test("the worker's name is a hash of the whole configuration and the protocol version", async () => {
  const base = { issuer: "https://op.example.com", clientId: "c", redirectUri: "https://app.example.com/cb", resourceOrigins: ["https://api.example.com"] };
  const n1 = await _workerSupport.workerName(base);
  assert.match(n1, new RegExp(`^pkce-wasm:${_workerSupport.PROTOCOL}:[0-9a-f]{64}$`));
  // Key order does not matter; any value does (a widened allow-list gets another worker).
  assert.equal(await _workerSupport.workerName({ resourceOrigins: base.resourceOrigins, redirectUri: base.redirectUri, clientId: "c", issuer: base.issuer }), n1);
  assert.notEqual(await _workerSupport.workerName({ ...base, resourceOrigins: [...base.resourceOrigins, "https://evil.example"] }), n1);
  assert.notEqual(await _workerSupport.workerName({ ...base, scope: "openid offline_access" }), n1);
});

test("errors cross postMessage as data and come back as PkceWasmError with the provider's words apart", () => {
  const e = new PkceWasmError("provider_error", "odd", { oauthError: "foo_bar", status: 400 });
  const data = _workerSupport.fromError(e);
  assert.deepEqual(data, { code: "provider_error", description: "odd", oauthError: "foo_bar", status: 400 });
  const back = _workerSupport.toError(structuredClone(data));
  assert.ok(back instanceof PkceWasmError);
  assert.equal(back.code, "provider_error");
  assert.equal(back.oauthError, "foo_bar");
  assert.equal(back.status, 400);
  assert.equal(_workerSupport.toError(new TypeError("boom")).code, "internal_error");
});

test("create rejects bad isolation values before starting anything", async () => {
  await assert.rejects(PkceWasm.create({ isolation: "none" }), (e) => e instanceof PkceWasmError && e.code === "invalid_config");
  await assert.rejects(PkceWasm.create(null), (e) => e.code === "invalid_config");
});
