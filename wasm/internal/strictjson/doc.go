// Package strictjson reads and writes the JSON that pkce-wasm exchanges with an OAuth 2.0 / OpenID
// provider (token responses, discovery documents, JWK Sets, JOSE headers and claims) without
// encoding/json, whose reflection-driven decoder is the largest removable part of the browser
// bundle.
//
// Parse accepts exactly one JSON value (RFC 8259 §2) surrounded by optional whitespace and builds
// a small tree of Values. It is stricter than RFC 8259, along the lines of I-JSON (RFC 7493):
//   - text must be valid UTF-8 (RFC 8259 §8.1, RFC 7493 §2.1) and a \u escape must not leave a
//     surrogate unpaired (RFC 7493 §2.2);
//   - member names of one object must be unique (RFC 7493 §2.3), and, stricter still, must differ
//     under Unicode simple case folding (strings.EqualFold), so that a consumer that matches names
//     case-insensitively (as encoding/json did here) cannot see another member than one that does
//     not (as JavaScript's JSON.parse does);
//   - nesting is limited to MaxDepth arrays and objects.
//
// Numbers are kept as their literal text; Float64 and Int64 convert them with range checks (RFC
// 8259 §6, RFC 7493 §2.2). The Object type writes the few small objects the client produces.
package strictjson
