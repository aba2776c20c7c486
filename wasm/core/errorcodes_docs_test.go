package core

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The TypeScript union (js/src/pkce-wasm.d.ts) and the README's error table list exactly the codes
// of errors.go: a code added or dropped in one place and not the others fails here.
func TestErrorCodesMatchTypesAndREADME(t *testing.T) {
	want := map[string]bool{}
	for _, c := range append(slices.Clone(LibraryCodes), ProviderCodes...) {
		want[c] = true
	}
	check := func(where string, got map[string]bool) {
		t.Helper()
		for c := range want {
			if !got[c] {
				t.Errorf("%s lacks %q", where, c)
			}
		}
		for c := range got {
			if !want[c] {
				t.Errorf("%s lists %q, which errors.go does not", where, c)
			}
		}
	}

	dts, err := os.ReadFile("../../js/src/pkce-wasm.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	union := regexp.MustCompile(`(?s)export type PkceWasmErrorCode =(.*?);`).FindSubmatch(dts)
	if union == nil {
		t.Fatal("pkce-wasm.d.ts has no PkceWasmErrorCode union")
	}
	if strings.Contains(string(union[1]), "string &") {
		t.Error("PkceWasmErrorCode is open ((string & {})): it must be the closed list")
	}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`"([a-z_]+)"`).FindAllSubmatch(union[1], -1) {
		got[string(m[1])] = true
	}
	check("the PkceWasmErrorCode union", got)

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?s)### Error codes\n(.*?)\n#").FindSubmatch(readme)
	if section == nil {
		t.Fatal(`README.md has no "### Error codes" section`)
	}
	got = map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllSubmatch(section[1], -1) {
		got[string(m[1])] = true
	}
	check("the README's error table", got)
}
