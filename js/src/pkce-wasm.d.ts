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
  /** Where to load the WASM from. Default: pkce.wasm next to this module. */
  wasmUrl?: string | URL;
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

export interface PkceWasmClient {
  /** Start the authorization code flow with PKCE: navigates to the provider. */
  login(options?: LoginOptions): Promise<void>;
  /** On the redirect URI page: validate the response, exchange the code, keep tokens in memory. */
  handleCallback(url?: string): Promise<{ returnTo: string }>;
  isAuthenticated(): Promise<boolean>;
  /** Claims of the validated ID token, or null when signed out. */
  getUser(): Promise<UserClaims | null>;
  /** window.fetch that adds `Authorization: Bearer` for allow-listed origins only. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Forget tokens and end the session at the provider (RP-initiated logout, form POST). */
  logout(options?: LogoutOptions): Promise<void>;
}

/** Stable error codes; OAuth error codes from the provider (RFC 6749 §4.1.2.1, §5.2) pass through too. */
export type PkceWasmErrorCode =
  | "invalid_config" | "discovery_failed" | "network_error" | "invalid_callback" | "state_mismatch"
  | "issuer_mismatch" | "invalid_token_response" | "server_error" | "invalid_id_token"
  | "login_required" | "invalid_grant" | "access_denied" | "storage_error" | "invalid_request"
  | "load_failed" | "internal_error" | (string & {});

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
