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
  /** How long a new page waits for another open tab to hand over its session (ms). Default 100; 0 disables. */
  tabHandoffMs?: number;
  /** Where to load the WASM from. Default: pkce.wasm next to this module. */
  wasmUrl?: string | URL;
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
}

export interface LogoutOptions {
  /** Where to go when the provider has no end_session_endpoint or with localOnly. */
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
  /** Tokens dropped: logout here or in another tab, or the provider ended the session. */
  signedOut: { reason: "logout" | "invalid_grant" | "other_tab" };
  /** A background operation (proactive refresh, revocation) failed. */
  error: { code: PkceWasmErrorCode; during: string };
}

export interface PkceWasmClient {
  /** Start the authorization code flow with PKCE: navigates to the provider. */
  login(options?: LoginOptions): Promise<void>;
  /** Sign in in a popup; the page stays. Call from a click handler. */
  loginPopup(options?: { returnTo?: string }): Promise<CallbackResult>;
  /**
   * prompt=none: in a hidden iframe (default; the provider must be same-site or allow its cookies
   * in frames) resolving to whether a session was found, or with a top-level redirect.
   */
  signInSilently(options?: { mode?: "iframe" | "redirect"; returnTo?: string }): Promise<boolean | void>;
  /** On the redirect URI page: validate the response, exchange the code, keep tokens in memory. */
  handleCallback(url?: string): Promise<CallbackResult>;
  isAuthenticated(): Promise<boolean>;
  /** Claims of the validated ID token, or null when signed out. */
  getUser(): Promise<UserClaims | null>;
  /** The provider's UserInfo claims; rejected (invalid_userinfo) unless its sub equals the ID token's. */
  getUserInfo(): Promise<Record<string, unknown>>;
  /** window.fetch that adds `Authorization: Bearer` for allow-listed origins only. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Forget tokens in every tab, revoke the refresh token (RFC 7009), end the session at the provider (form POST). */
  logout(options?: LogoutOptions): Promise<void>;
  /** Subscribe to a lifecycle event; returns an unsubscribe function. */
  on<K extends keyof PkceWasmEvents>(event: K, listener: (detail: PkceWasmEvents[K]) => void): () => void;
  off<K extends keyof PkceWasmEvents>(event: K, listener: (detail: PkceWasmEvents[K]) => void): void;
}

/** Stable error codes; OAuth error codes from the provider (RFC 6749 §4.1.2.1, §5.2) pass through too. */
export type PkceWasmErrorCode =
  | "invalid_config" | "discovery_failed" | "network_error" | "invalid_callback" | "state_mismatch"
  | "issuer_mismatch" | "invalid_token_response" | "server_error" | "invalid_id_token"
  | "login_required" | "invalid_grant" | "access_denied" | "storage_error" | "invalid_request"
  | "load_failed" | "internal_error" | "popup_blocked" | "timeout" | "invalid_userinfo"
  | "dpop_unsupported" | "invalid_dpop_nonce" | "invalid_dpop_proof" | "use_dpop_nonce" | (string & {});

export class PkceWasmError extends Error {
  readonly code: PkceWasmErrorCode;
  readonly description: string;
  constructor(code: string, description?: string);
}

export declare const PkceWasm: {
  create(options: PkceWasmOptions): Promise<PkceWasmClient>;
  isCallback(href?: string): boolean;
};
export default PkceWasm;
