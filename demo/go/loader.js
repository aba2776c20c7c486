// Minimal loader for the Go-WASM demo (demo/go/main.go): Go's wasm_exec.js (loaded by
// index.html before this module) runs /pkce/demo-go.wasm. The Go program renders the page and
// sets body[data-ready]; here only a failure to load is reported.
const go = new Go();
try {
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/pkce/demo-go.wasm"), go.importObject);
  go.run(instance); // settles only when main returns, which it does not
} catch (err) {
  const el = document.getElementById("error");
  el.dataset.code = "load_failed";
  el.textContent = `load_failed: ${err && err.message ? err.message : err}`;
  el.hidden = false;
  document.getElementById("status").dataset.state = "signed-out";
  document.body.dataset.ready = "true";
}
