// Type declarations for pkce-wasm/react.

import type { ReactElement, ReactNode } from "react";
import type {
  CallbackResult,
  LoginOptions,
  LogoutOptions,
  PkceWasmClient,
  PkceWasmError,
  PkceWasmOptions,
  UserClaims,
} from "./pkce-wasm.js";

export { PkceWasm, PkceWasmError } from "./pkce-wasm.js";
export type { CallbackResult, LoginOptions, LogoutOptions, PkceWasmClient, PkceWasmOptions, UserClaims } from "./pkce-wasm.js";

export interface AuthProviderProps {
  /** PkceWasm.create's options. Compared by value: an inline object does not recreate the client. */
  options: PkceWasmOptions;
  /**
   * Called once after a redirect login's callback was handled on this page (not for a popup's or
   * iframe's forwarded callback). Default: `history.replaceState(null, "", result.returnTo)`;
   * pass your router's navigate instead.
   */
  onCallback?: (result: CallbackResult) => void;
  children?: ReactNode;
}

/** Creates the client, handles the callback on the redirect URI page (once, also under StrictMode) and provides useAuth(). */
export declare function AuthProvider(props: AuthProviderProps): ReactElement;

export interface AuthState {
  /** true until the client is created and, on the redirect URI page, the callback is handled. */
  isLoading: boolean;
  isAuthenticated: boolean;
  /** Claims of the validated ID token; null when signed out. */
  user: UserClaims | null;
  /** The last failure: creating the client, the callback, or a background operation (the client's "error" event). */
  error: PkceWasmError | null;
  /** Navigates to the provider (see PkceWasmClient.login). */
  login(options?: LoginOptions): Promise<void>;
  /** Signs in in a popup; call from a click handler. The state is refreshed afterwards. */
  loginPopup(options?: { returnTo?: string }): Promise<CallbackResult>;
  /** See PkceWasmClient.logout; the state is refreshed afterwards. */
  logout(options?: LogoutOptions): Promise<void>;
  /** fetch that adds the access token for the configured resourceOrigins (the token stays in the worker). */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The client, once created (null while loading or when creating it failed). */
  client: PkceWasmClient | null;
}

/** The nearest AuthProvider's state and actions; throws outside an AuthProvider. */
export declare function useAuth(): AuthState;
