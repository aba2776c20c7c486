// pkce-wasm demo SPA.
//
// Loads /config.json from the dev server, creates the WASM-backed client, handles the OAuth
// callback when the page is the redirect URI, and renders the signed-in/out state.
//
// Contract with the end-to-end tests (js/test/e2e.test.mjs):
//   window.auth                  the PkceWasm client instance
//   body[data-ready="true"]      initial rendering (including callback handling) is finished
//   #status[data-state]          "signed-in" | "signed-out" (text "Signed in as <name|sub>" / "Signed out")
//   #login #logout #call-api     buttons, shown/hidden by state
//   #claims                      ID-token claims JSON (auth.getUser())
//   #api-result[data-status]     HTTP status of the last auth.fetch("/api/me") and its JSON body
//   #error[data-code]            "<code>: <message>" of the last caught error; hidden when none
//
// Never log or display a token: only ID-token claims and API responses are shown.

const $ = (id) => document.getElementById(id);

const els = {
  status: $("status"),
  error: $("error"),
  login: $("login"),
  logout: $("logout"),
  callApi: $("call-api"),
  claims: $("claims"),
  apiResult: $("api-result"),
  apiStatus: $("api-status"),
};

let auth = null;

function errorCode(err) {
  if (err && typeof err === "object" && typeof err.code === "string" && err.code) return err.code;
  return "error";
}

function errorMessage(err) {
  if (err && typeof err === "object") {
    const msg = err.description || err.message;
    if (msg) return String(msg);
  }
  return String(err);
}

function showError(err) {
  const code = errorCode(err);
  els.error.dataset.code = code;
  els.error.textContent = `${code}: ${errorMessage(err)}`;
  els.error.hidden = false;
}

function clearError() {
  els.error.dataset.code = "";
  els.error.textContent = "";
  els.error.hidden = true;
}

function setBusy(busy) {
  for (const b of [els.login, els.logout, els.callApi]) b.disabled = busy;
}

async function render() {
  let user = null;
  let signedIn = false;
  if (auth) {
    signedIn = await auth.isAuthenticated();
    if (signedIn) user = await auth.getUser();
  }
  if (signedIn) {
    const who = (user && (user.name || user.sub)) || "unknown user";
    els.status.textContent = `Signed in as ${who}`;
    els.status.dataset.state = "signed-in";
    els.claims.textContent = user ? JSON.stringify(user, null, 2) : "—";
  } else {
    els.status.textContent = "Signed out";
    els.status.dataset.state = "signed-out";
    els.claims.textContent = "—";
  }
  els.login.hidden = !auth || signedIn;
  els.logout.hidden = !auth || !signedIn;
  // The API button stays available when signed out, to show what happens without a token
  // (HTTP 401 from the API, or login_required from the client).
  els.callApi.hidden = !auth;
}

async function onLogin() {
  clearError();
  setBusy(true);
  try {
    // Navigates to the OP; the promise does not settle on success.
    await auth.login({ returnTo: "/" });
  } catch (err) {
    showError(err);
    setBusy(false);
  }
}

async function onLogout() {
  clearError();
  setBusy(true);
  try {
    await auth.logout({ returnTo: "/" });
  } catch (err) {
    showError(err);
    setBusy(false);
    await render().catch(showError);
  }
}

async function onCallApi() {
  clearError();
  setBusy(true);
  els.apiResult.dataset.status = "";
  els.apiStatus.textContent = "…";
  try {
    const res = await auth.fetch("/api/me");
    const text = await res.text();
    let body;
    try {
      body = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      body = text || "(empty body)";
    }
    els.apiStatus.textContent = `HTTP ${res.status}`;
    els.apiResult.textContent = body;
    els.apiResult.dataset.status = String(res.status);
  } catch (err) {
    els.apiStatus.textContent = "failed";
    els.apiResult.textContent = "—";
    els.apiResult.dataset.status = "error";
    showError(err);
  } finally {
    setBusy(false);
  }
}

async function main() {
  try {
    const { PkceWasm } = await import("/pkce/pkce-wasm.js");

    const res = await fetch("/config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`GET /config.json: HTTP ${res.status}`);
    const config = await res.json();

    auth = await PkceWasm.create(config);
    window.auth = auth;

    els.login.addEventListener("click", onLogin);
    els.logout.addEventListener("click", onLogout);
    els.callApi.addEventListener("click", onCallApi);

    if (PkceWasm.isCallback(location.href) || location.pathname === "/callback") {
      let returnTo = "/";
      try {
        const result = await auth.handleCallback();
        if (result && typeof result.returnTo === "string" && /^\/(?![/\\])/.test(result.returnTo)) {
          returnTo = result.returnTo;
        }
      } catch (err) {
        showError(err);
      } finally {
        // Never leave code/state/error in the address bar or the history, success or failure.
        history.replaceState(null, "", returnTo);
      }
    }
  } catch (err) {
    showError(err);
  }

  try {
    await render();
  } catch (err) {
    showError(err);
  }
  document.body.dataset.ready = "true";
}

main();
