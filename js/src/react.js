// pkce-wasm/react: <AuthProvider> and useAuth() for React 18+ (a peer dependency).
//
// Plain ESM with React.createElement (no JSX, no build step). The provider creates one client per
// configuration, handles the callback on the redirect-URI page exactly once per page load (also
// under <StrictMode>, whose development build runs effects twice), and keeps in React state only
// what the client's methods return: whether a session exists, the ID-token claims and the last
// error. There is no token to put in state: the client keeps its tokens in a worker, and this
// module never asks for one.
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { PkceWasm, PkceWasmError } from "./pkce-wasm.js";

const AuthContext = createContext(null);
AuthContext.displayName = "PkceWasmAuth";

// ---- module-level single flights (they outlive a StrictMode unmount/remount) ----

// canonical is JSON with sorted keys: options that are equal give the same key, whatever the
// object's identity (an inline `options={{…}}` is a new object on every render).
function canonical(v) {
  if (v instanceof URL) return JSON.stringify(v.href);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const clients = new Map(); // canonical options → Promise<PkceWasmClient>

function clientFor(key, options) {
  let p = clients.get(key);
  if (!p) {
    p = PkceWasm.create(options);
    clients.set(key, p);
    p.catch(() => {
      if (clients.get(key) === p) clients.delete(key); // a later mount may retry
    });
  }
  return p;
}

// Callback URL → Promise of its outcome. handleCallback consumes the login transaction (a second
// call with the same URL fails with state_mismatch) and strips code and state from the address
// bar at once, so a second effect run can neither repeat it nor recognise the URL: it joins the
// first run's promise, found by the URL the provider captured when it was first rendered.
const callbacks = new Map();

function callbackOnce(client, href, onCallback) {
  let p = callbacks.get(href);
  if (!p) {
    p = client.handleCallback(href).then((result) => {
      if (!result.forwarded) {
        if (onCallback) onCallback(result);
        else history.replaceState(null, "", result.returnTo || "/");
      }
      return result;
    });
    callbacks.set(href, p);
  }
  return p;
}

function asError(err) {
  if (err instanceof PkceWasmError) return err;
  if (err && typeof err === "object" && typeof err.code === "string") return new PkceWasmError(err.code, err.description);
  return new PkceWasmError("internal_error", String((err && err.message) || err));
}

const LOADING = Object.freeze({ isLoading: true, isAuthenticated: false, user: null, error: null });

/**
 * Provides the client to useAuth(). Props: options (PkceWasm.create's), onCallback(result)
 * (optional: navigate to result.returnTo with your router; default history.replaceState), children.
 */
export function AuthProvider({ options, onCallback, children }) {
  const key = canonical(options);
  // The page's URL when the provider first rendered: a callback is recognised by it, even after the
  // first effect run has cleaned the address bar.
  const [initialHref] = useState(() => globalThis.location && globalThis.location.href);
  const [client, setClient] = useState(null);
  const [state, setState] = useState(LOADING);
  const clientRef = useRef(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const onCallbackRef = useRef(onCallback);
  onCallbackRef.current = onCallback;
  const seq = useRef(0); // the newest refresh wins
  const refreshRef = useRef(async () => {});

  useEffect(() => {
    let active = true;
    const unsubscribe = [];

    async function refresh(c, error) {
      const n = ++seq.current;
      try {
        const [isAuthenticated, user] = await Promise.all([c.isAuthenticated(), c.getUser()]);
        if (active && n === seq.current) {
          setState((s) => ({ isLoading: false, isAuthenticated, user: isAuthenticated ? user : null, error: error === undefined ? s.error : error }));
        }
      } catch (err) {
        if (active && n === seq.current) setState({ isLoading: false, isAuthenticated: false, user: null, error: asError(err) });
      }
    }

    const created = clientFor(key, optionsRef.current);
    // The callback belongs to the page load, not to this mount: the first effect run starts it
    // (even if StrictMode unmounts that run meanwhile), any other run joins it (callbackOnce).
    const handled = PkceWasm.isCallback(initialHref) ? created.then((c) => callbackOnce(c, initialHref, onCallbackRef.current)) : null;
    if (handled) handled.catch(() => {}); // reported below by the run that is still mounted

    (async () => {
      let c;
      try {
        c = await created;
      } catch (err) {
        if (active) setState({ isLoading: false, isAuthenticated: false, user: null, error: asError(err) });
        return;
      }
      if (!active) return;
      clientRef.current = c;
      setClient(c);
      refreshRef.current = (error) => refresh(c, error);
      unsubscribe.push(
        c.on("signedOut", () => refresh(c)),
        c.on("tokenRefreshed", () => refresh(c)),
        c.on("error", ({ code, during }) => {
          if (active) setState((s) => ({ ...s, error: new PkceWasmError(code, `during ${during}`) }));
        }),
      );
      let error = null;
      if (handled) {
        try {
          await handled;
        } catch (err) {
          error = asError(err);
        }
        if (!active) return;
      }
      await refresh(c, error);
    })();

    return () => {
      active = false;
      for (const off of unsubscribe) off();
      refreshRef.current = async () => {};
    };
  }, [key, initialHref]);

  // The client once it exists (a promise until then); stable across renders.
  const ready = useCallback(() => clientRef.current || clientFor(key, optionsRef.current), [key]);

  const login = useCallback((o) => Promise.resolve(ready()).then((c) => c.login(o)), [ready]);
  const loginPopup = useCallback(
    (o) => {
      // window.open must run inside the click: call through at once when the client is ready.
      const c = clientRef.current;
      const done = c ? c.loginPopup(o) : Promise.resolve(ready()).then((x) => x.loginPopup(o));
      return done.then(async (result) => {
        await refreshRef.current(null);
        return result;
      });
    },
    [ready],
  );
  const logout = useCallback(
    (o) =>
      Promise.resolve(ready())
        .then((c) => c.logout(o))
        .then(() => refreshRef.current()),
    [ready],
  );
  const authFetch = useCallback((input, init) => Promise.resolve(ready()).then((c) => c.fetch(input, init)), [ready]);

  const value = useMemo(
    () => ({ ...state, login, logout, loginPopup, fetch: authFetch, client }),
    [state, login, logout, loginPopup, authFetch, client],
  );
  return createElement(AuthContext.Provider, { value }, children);
}

/** The authentication state and actions of the nearest <AuthProvider>. */
export function useAuth() {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("pkce-wasm/react: useAuth() must be used inside <AuthProvider>");
  return ctx;
}

export { PkceWasm, PkceWasmError };
