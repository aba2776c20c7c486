//go:build !js

package pkce

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goListDeps returns the import graph of pkg built for js/wasm.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts $GOROOT/bin first on PATH
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", pkg)
	cmd.Dir = filepath.Join("..", "..") // module root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("GOOS=js GOARCH=wasm go list -deps %s: %v\n%s", pkg, err, stderr)
	}
	return strings.Fields(string(out))
}

// The JS bundle must never link net/http or golang.org/x/oauth2 (see the package doc): this
// package is for Go programs only.
func TestBundleImportGraphExcludesNetHTTPAndOAuth2(t *testing.T) {
	deps := goListDeps(t, "./wasm/cmd/pkce-wasm")
	if !slices.Contains(deps, "github.com/pkce-wasm/pkce-wasm/wasm/jsbridge") {
		t.Fatalf("go list output does not look like the bundle's import graph: %q", deps)
	}
	for _, d := range deps {
		if d == "net/http" || d == "golang.org/x/oauth2" || strings.HasPrefix(d, "golang.org/x/oauth2/") ||
			d == "github.com/pkce-wasm/pkce-wasm/wasm/pkce" {
			t.Errorf("the JS bundle (wasm/cmd/pkce-wasm) imports %s", d)
		}
	}
	// The check means something: this package does pull both in.
	own := goListDeps(t, "./wasm/pkce")
	for _, want := range []string{"net/http", "golang.org/x/oauth2", "github.com/pkce-wasm/pkce-wasm/wasm/jsbridge"} {
		if !slices.Contains(own, want) {
			t.Errorf("wasm/pkce for js/wasm does not import %s", want)
		}
	}
}

// Standard packages the bundle does without because of their size (README, "Size and
// performance"): crypto/sha256 links Go's FIPS 140 module (39 KB brotli); wasm/internal/sha256
// replaces it.
func TestBundleImportGraphExcludesHeavyStd(t *testing.T) {
	deps := goListDeps(t, "./wasm/cmd/pkce-wasm")
	if !slices.Contains(deps, "github.com/pkce-wasm/pkce-wasm/wasm/internal/sha256") {
		t.Fatalf("go list output does not look like the bundle's import graph: %q", deps)
	}
	for _, banned := range []string{"crypto/sha256", "crypto/internal/fips140"} {
		if slices.Contains(deps, banned) {
			t.Errorf("the JS bundle (wasm/cmd/pkce-wasm) imports %s", banned)
		}
	}
}
