import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
const dir = mkdtempSync("/tmp/ws/prof");
const c = spawn("/usr/bin/chromium", ["--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", `--user-data-dir=${dir}`, "http://localhost:18777/bench/ready.html"], { stdio: "ignore" });
while (!existsSync(`${dir}/DevToolsActivePort`)) await sleep(50);
const [port] = readFileSync(`${dir}/DevToolsActivePort`, "utf8").split("\n");
await sleep(500);
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const t = targets.find((x) => x.type === "page");
const ws = new WebSocket(t.webSocketDebuggerUrl);
await new Promise((r) => (ws.onopen = r));
let id = 0; const pending = new Map();
ws.onmessage = (m) => { const d = JSON.parse(m.data); if (pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } };
const send = (method, params) => new Promise((r) => { pending.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
for (let k = 0; k < 2; k++) {
  const r = await send("Runtime.evaluate", { awaitPromise: true, returnByValue: true, expression: `(async () => { const t0 = performance.now(); for (let i = 0; i < 500; i++) await (await fetch("/api/echo")).arrayBuffer(); return ((performance.now() - t0) / 500).toFixed(3) + " ms/req"; })()` });
  console.log(r.result.result.value);
}
ws.close(); c.kill();
