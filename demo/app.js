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
//   #login-popup                 signs in in a popup (auth.loginPopup); the page stays
//   #claims                      ID-token claims JSON (auth.getUser())
//   #api-result[data-status]     HTTP status of the last auth.fetch("/api/me") and its JSON body
//   #error[data-code]            "<code>: <message>" of the last caught error; hidden when none
//
// Never log or display a token: only ID-token claims and API responses are shown.
//
// Extra client options for experiments and tests come from the query string, e.g.
// /?autoRefresh=0&refreshMarginSeconds=5&isolation=page, and are kept in sessionStorage
// ("pkce-demo.options", options only) so that they survive the round trip to the OP in this tab.
// Without such parameters the client gets /config.json as it is.

const $ = (id) => document.getElementById(id);

const els = {
  status: $("status"),
  error: $("error"),
  login: $("login"),
  loginPopup: $("login-popup"),
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
  for (const b of [els.login, els.loginPopup, els.logout, els.callApi]) b.disabled = busy;
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
  els.loginPopup.hidden = !auth || signedIn;
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

async function onLoginPopup() {
  clearError();
  setBusy(true);
  try {
    // Must run inside the click: loginPopup opens the window synchronously.
    await auth.loginPopup({ returnTo: "/" });
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
    await render().catch(showError);
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

const OPTIONS_KEY = "pkce-demo.options";

// demoOptions reads the extra client options from the query string (saving them for this tab) or
// from an earlier page of this tab. Only these names, with checked types, are passed on.
function demoOptions() {
  const q = new URLSearchParams(location.search);
  const out = {};
  if (q.has("autoRefresh")) out.autoRefresh = !["0", "false", "no", "off"].includes(q.get("autoRefresh"));
  if (q.has("dpop")) out.dpop = !["0", "false", "no", "off"].includes(q.get("dpop"));
  if (["worker", "page"].includes(q.get("isolation"))) out.isolation = q.get("isolation");
  for (const name of ["refreshMarginSeconds", "clockSkewSeconds"]) {
    if (q.has(name) && q.get(name) !== "" && Number.isFinite(Number(q.get(name)))) out[name] = Number(q.get(name));
  }
  try {
    if (Object.keys(out).length > 0) {
      sessionStorage.setItem(OPTIONS_KEY, JSON.stringify(out));
      return out;
    }
    const saved = JSON.parse(sessionStorage.getItem(OPTIONS_KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return out;
  }
}

async function main() {
  try {
    const { PkceWasm } = await import("/pkce/pkce-wasm.js");

    const res = await fetch("/config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`GET /config.json: HTTP ${res.status}`);
    const config = await res.json();

    auth = await PkceWasm.create({ ...config, ...demoOptions() });
    window.auth = auth;
    // Another tab signed in, refreshed or signed out, or the provider ended the session.
    for (const event of ["tokenRefreshed", "signedOut"]) auth.on(event, () => render().catch(showError));

    els.login.addEventListener("click", onLogin);
    els.loginPopup.addEventListener("click", onLoginPopup);
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
