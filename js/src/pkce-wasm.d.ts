// Type declarations for pkce-wasm.

export interface PkceWasmOptions {
  /** OpenID Provider issuer URL; https, or http on localhost. Discovery reads `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Public client id registered at the provider. */
  clientId: string;
  /** Absolute redirect URI registered at the provider, e.g. "https://app.example.com/callback". */
  redirectUri: string;
  /** Space-separated scopes; must include "openid". Default "openid". Add "offline_access" for refresh tokens. */
  scope?: string;
  /** Origins (scheme://host[:port]) whose requests through `fetch` get the access token. */
  resourceOrigins?: string[];
  /** Where the provider sends the browser after logout (must be registered there). */
  postLogoutRedirectUri?: string;
  /** Clock tolerance for ID-token time claims, seconds. Default 30. */
  clockSkewSeconds?: number;
  /** Refresh this long before the access token expires, seconds. Default 60. */
  refreshMarginSeconds?: number;
  /** Refresh proactively before expiry (default true); false: only when a request needs a token. */
  autoRefresh?: boolean;
  /** @deprecated Accepted and ignored: tabs share one worker, so there is no handoff to wait for. */
  tabHandoffMs?: number;
  /** Where to load the WASM from. Default: pkce.wasm next to this module. */
  wasmUrl?: string | URL;
  /**
   * Where the client runs. "worker" (default): in a SharedWorker shared by the app's tabs (a
   * dedicated Worker where SharedWorker is missing); no token ever reaches the page's JavaScript.
   * "page": in this page (weaker; for sites whose CSP forbids workers). See README, "Security".
   */
  isolation?: "worker" | "page";
  /** Where to load the worker script from. Default: pkce-wasm.worker.js next to this module. Same origin as the page. */
  workerUrl?: string | URL;
  /**
   * Escape hatch, off by default: adds client.getAccessToken() for code that cannot use
   * client.fetch (a WebSocket handshake, a third-party SDK). Gives up isolation for the access
   * token (never the refresh token).
   */
  exposeAccessToken?: boolean;
  /** Auth0-style `audience`: the API the access token is for. */
  audience?: string;
  /** RFC 8707 resource indicator(s): absolute URIs without fragment. */
  resource?: string | string[];
  /** OIDC `max_age` in seconds: the ID token's `auth_time` is then required and checked. */
  maxAge?: number;
  /** OIDC `acr_values`, space-separated; the ID token's `acr` is in getUser(). */
  acrValues?: string;
  /** Provider-specific authorization parameters; names the library sets itself are refused. */
  extraParams?: Record<string, string>;
  /**
   * Bind the tokens to a key with DPoP (RFC 9449): an ES256 key generated non-extractable with
   * WebCrypto, kept in IndexedDB until logout. The provider must list ES256 in
   * `dpop_signing_alg_values_supported`, or login rejects with `dpop_unsupported`. Default false.
   */
  dpop?: boolean;
}

export interface LoginOptions {
  /** Same-origin path to return to after the callback. Default "/". */
  returnTo?: string;
  /** OIDC prompt: "login", "none", "consent", "select_account", "create". */
  prompt?: string;
  loginHint?: string;
  /** These override the create options of the same name for this login (extraParams are merged). */
  audience?: string;
  resource?: string | string[];
  maxAge?: number;
  acrValues?: string;
  extraParams?: Record<string, string>;
}

export interface LogoutOptions {
  /** Same-origin path to go to when the provider has no end_session_endpoint or with localOnly. */
  returnTo?: string;
  /** Only forget the tokens in this page; do not end the session at the provider. */
  localOnly?: boolean;
}

/** ID-token claims (OIDC Core §2, §5.1). */
export interface UserClaims {
  sub: string;
  iss: string;
  aud: string | string[];
  exp: number;
  iat: number;
  name?: string;
  email?: string;
  [claim: string]: unknown;
}

export interface CallbackResult {
  returnTo: string;
  /** false when a prompt=none request found no session at the provider (a clean signed-out state). */
  signedIn?: boolean;
  /** true in a popup or iframe: the response was handed to the window that started the login. */
  forwarded?: boolean;
}

export interface PkceWasmEvents {
  /** New tokens, from a refresh here or in another tab. */
  tokenRefreshed: { expiresAt: number | null; source?: "other_tab" };
  /** The access token is within the refresh margin. */
  tokenExpiring: { expiresAt: number | null };
  /**
   * Tokens dropped: logout here or in another tab, the provider ended the session, or the worker
   * that held them died (worker_lost: call signInSilently() or login()).
   */
  signedOut: { reason: "logout" | "invalid_grant" | "other_tab" | "worker_lost" };
  /** A background operation (proactive refresh, revocation) failed. */
  error: { code: PkceWasmErrorCode; during: string };
}

/** What the app may know about the session, token-free (getSession, refresh). */
export interface SessionInfo {
  /** The access token's expiry, unix seconds; null when the provider gave no lifetime. */
  expiresAt: number | null;
  /** The granted scope, as the token response stated it; null when it stated none. */
  scope: string | null;
  /** A refresh token is held (it never leaves the client). */
  refreshable: boolean;
}

export interface PkceWasmClient {
  /** Start the authorization code flow with PKCE: navigates to the provider. */
  /**
   * Where the Go client runs: a SharedWorker shared by this app's tabs, a dedicated Worker of this
   * tab (where SharedWorker is missing, and on WebKit: see README), or this page (isolation "page").
   */
  readonly runsIn: "shared-worker" | "worker" | "page";
  login(options?: LoginOptions): Promise<void>;
  /** Sign in in a popup; the page stays. Call from a click handler. */
  loginPopup(options?: LoginOptions): Promise<CallbackResult>;
  /**
   * prompt=none: in a hidden iframe (default; the provider must be same-site or allow its cookies
   * in frames) resolving to whether a session was found, or with a top-level redirect.
   */
  signInSilently(options?: LoginOptions & { mode?: "iframe" | "redirect" }): Promise<boolean | void>;
  /** On the redirect URI page: validate the response, exchange the code, keep tokens in memory. */
  handleCallback(url?: string): Promise<CallbackResult>;
  isAuthenticated(): Promise<boolean>;
  /** Claims of the validated ID token, or null when signed out. */
  getUser(): Promise<UserClaims | null>;
  /** The provider's UserInfo claims; rejected (invalid_userinfo) unless its sub equals the ID token's. */
  getUserInfo(): Promise<Record<string, unknown>>;
  /**
   * fetch that adds `Authorization: Bearer` for allow-listed origins only. In worker mode the
   * request goes out from the worker: the Response is built here from its status, headers and
   * body (one buffer when small, else a stream; url, redirected and type are carried over; an opaque
   * answer becomes status 0).
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The session's token-free status, or null when signed out. */
  getSession(): Promise<SessionInfo | null>;
  /**
   * Refresh the access token now (one request shared with any refresh under way); resolves to the
   * new status. Rejects with login_required when signed out, without a refresh token, or when the
   * provider refused the refresh token (then signedOut follows).
   */
  refresh(): Promise<SessionInfo>;
  /** Only with exposeAccessToken: a valid access token (refreshed when needed). */
  getAccessToken?(): Promise<string>;
  /** Forget tokens in every tab, revoke the refresh token (RFC 7009), end the session at the provider (RP-initiated logout). */
  logout(options?: LogoutOptions): Promise<void>;
  /** Subscribe to a lifecycle event; returns an unsubscribe function. */
  on<K extends keyof PkceWasmEvents>(event: K, listener: (detail: PkceWasmEvents[K]) => void): () => void;
  off<K extends keyof PkceWasmEvents>(event: K, listener: (detail: PkceWasmEvents[K]) => void): void;
}

/**
 * Every code a PkceWasmError can have (wasm/core/errors.go is the one list; a test keeps this
 * union and the README's table equal to it). Library codes say what went wrong on our side;
 * provider codes (RFC 6749 §4.1.2.1/§5.2, OIDC Core §3.1.2.6, RFC 6750, RFC 9449, RFC 8707) are the
 * provider's answer passed through, with the raw value in `oauthError`; any other provider code
 * becomes "provider_error".
 */
export type PkceWasmErrorCode =
  // library
  | "invalid_config" | "discovery_failed" | "network_error" | "server_error" | "timeout"
  | "invalid_callback" | "state_mismatch" | "issuer_mismatch" | "invalid_token_response"
  | "invalid_id_token" | "invalid_userinfo" | "login_required" | "provider_error"
  | "dpop_unsupported" | "invalid_dpop_nonce" | "popup_blocked" | "load_failed" | "worker_failed"
  | "worker_lost" | "storage_error" | "internal_error"
  // provider
  | "invalid_request" | "unauthorized_client" | "access_denied" | "unsupported_response_type"
  | "invalid_scope" | "temporarily_unavailable" | "invalid_client" | "invalid_grant"
  | "unsupported_grant_type" | "interaction_required" | "account_selection_required"
  | "consent_required" | "invalid_request_uri" | "invalid_request_object" | "request_not_supported"
  | "request_uri_not_supported" | "registration_not_supported" | "invalid_token"
  | "insufficient_scope" | "invalid_dpop_proof" | "use_dpop_nonce" | "invalid_target";

export class PkceWasmError extends Error {
  readonly code: PkceWasmErrorCode;
  readonly description: string;
  /** The provider's raw `error` value, when the error is the provider's answer. */
  readonly oauthError?: string;
  /** The HTTP status of the provider's answer, when it came over HTTP. */
  readonly status?: number;
  constructor(code: string, description?: string, extra?: { oauthError?: string; status?: number });
}

export declare const PkceWasm: {
  create(options: PkceWasmOptions): Promise<PkceWasmClient>;
  isCallback(href?: string): boolean;
};
export default PkceWasm;
