// Types for the classic-script build, dist/pkce-wasm.iife.js (`<script src=".../pkce-wasm.iife.js">`):
// it defines the global `PkceWasm`, the ESM API plus the error class. Reference these types with
// `/// <reference types="pkce-wasm/iife" />` or `import type {} from "pkce-wasm/iife"`.
import type { PkceWasm as Api, PkceWasmError as ErrorClass } from "./pkce-wasm.js";

declare global {
  var PkceWasm: typeof Api & { readonly PkceWasmError: typeof ErrorClass };
}

export {};
