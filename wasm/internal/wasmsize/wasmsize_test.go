package main

import (
	"encoding/binary"
	"strings"
	"testing"
)

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func section(id byte, payload []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(payload)))...), payload...)
}

func str(s string) []byte { return append(uleb(uint64(len(s))), s...) }

// testModule: one imported function, two defined ones named through the name section, and a data
// segment holding a pcHeader with one function.
func testModule() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	imp := append(uleb(1), str("go")...)
	imp = append(imp, str("debug")...)
	imp = append(imp, 0, 0) // func, type 0
	b = append(b, section(2, imp)...)
	code := uleb(2)
	code = append(code, uleb(3)...)
	code = append(code, 0, 0x01, 0x0b)
	code = append(code, uleb(5)...)
	code = append(code, 0, 0x01, 0x01, 0x01, 0x0b)
	b = append(b, section(10, code)...)

	// pcHeader at memory offset 4096: funcnametab at +72 (8 bytes), cutab +80 (4), filetab +84 (4),
	// pctab +88 (8), functab +96: 2 entries of 8 bytes, the _func at functab+16 (44 bytes, no pcdata).
	hdr := make([]byte, 96+16+44)
	copy(hdr, []byte{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8})
	for i, v := range []uint64{1, 1, 0, 72, 80, 84, 88, 96} {
		binary.LittleEndian.PutUint64(hdr[8+8*i:], v)
	}
	binary.LittleEndian.PutUint32(hdr[96+4:], 16)
	data := append(uleb(1), 0, 0x41)
	data = append(data, uleb(4096)...) // i32.const 4096 (positive, fits the signed LEB128 too: 0x80 0x20)
	data = append(data, 0x0b)
	data = append(data, uleb(uint64(len(hdr)))...)
	data = append(data, hdr...)
	b = append(b, section(11, data)...)

	names := uleb(2)
	names = append(names, uleb(1)...)
	names = append(names, str("github.com_a_b_c.__T_.M")...)
	names = append(names, uleb(2)...)
	names = append(names, str("gopkg.in_yaml_2ev3.Unmarshal")...)
	name := append(str("name"), section(1, names)...)
	return append(b, section(0, name)...)
}

func TestParseAndAttribute(t *testing.T) {
	m, err := Parse(testModule())
	if err != nil {
		t.Fatal(err)
	}
	if m.NumImported != 1 || len(m.Bodies) != 2 {
		t.Fatalf("imports %d, bodies %d", m.NumImported, len(m.Bodies))
	}
	if got := m.FuncName(0); got != "github.com_a_b_c.__T_.M" {
		t.Fatalf("FuncName(0) = %q", got)
	}
	r := NewPkgResolver([]string{"github.com/a/b-c", "github.com/a", "gopkg.in/yaml.v3"}, "example.com/cmd")
	rows := CodeBy(m, r.Package)
	if len(rows) != 2 || rows[0].Key != "gopkg.in/yaml.v3" || rows[0].Code != 6 || rows[1].Key != "github.com/a/b-c" || rows[1].Code != 4 {
		t.Fatalf("rows = %+v", rows)
	}
	for name, want := range map[string]string{
		"main.main.func1":            "example.com/cmd",
		"runtime_debug.SetTraceback": "runtime/debug",
		"wasm_pc_f_loop":             "runtime",
		"type_.eq.T":                 pkgCompilerGen,
	} {
		if got := r.Package(name); got != want {
			t.Errorf("Package(%q) = %q, want %q", name, got, want)
		}
	}
	p := FindPclntab(m)
	if !p.Found || p.NFunc != 1 || p.FuncNames != 8 || p.CUTab != 4 || p.FileTab != 4 || p.PCTab != 8 || p.FuncTab != 16+44 {
		t.Fatalf("pclntab = %+v", p)
	}
}

func TestGroup(t *testing.T) {
	for pkg, want := range map[string]string{
		"crypto/internal/fips140/sha256": "std: crypto/…",
		"internal/runtime/maps":          "std: internal/, vendor/",
		"github.com/hack-pad/safejs/x":   "module: github.com/hack-pad/safejs",
		"example.com/m/core":             "this module: example.com/m/core",
		pkgCompilerGen:                   pkgCompilerGen,
	} {
		if got := Group(pkg, "example.com/m"); got != want {
			t.Errorf("Group(%q) = %q, want %q", pkg, got, want)
		}
	}
}

func TestParseRejectsJunk(t *testing.T) {
	if _, err := Parse([]byte("not wasm")); err == nil {
		t.Fatal("no error for junk")
	}
	b := testModule()
	if _, err := Parse(b[:len(b)-3]); err == nil {
		t.Fatal("no error for a truncated module")
	}
}

func TestBuildFlags(t *testing.T) {
	t.Setenv("GOFLAGS_WASM", `-trimpath -gcflags=all=-l -ldflags="-s -w"`)
	if got := strings.Join(buildFlags(false), "|"); got != "-trimpath|-gcflags=all=-l|-ldflags=-w" {
		t.Errorf("named build flags %q", got)
	}
	if got := strings.Join(buildFlags(true), "|"); got != "-trimpath|-gcflags=all=-l|-ldflags=-s -w" {
		t.Errorf("shipped build flags %q", got)
	}
	t.Setenv("GOFLAGS_WASM", "")
	if got := strings.Join(buildFlags(true), "|"); got != "-trimpath|-gcflags=all=-l|-ldflags=-s -w" {
		t.Errorf("default flags %q", got)
	}
}
