package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"regexp"
	"sort"
	"strings"
)

// Go's wasm linker writes each function's symbol name into the name section after replacing
// every character other than [A-Za-z0-9_.] with "_" (cmd/link/internal/wasm: nameRegexp), and the
// symbol name itself escapes "." in the last import-path element as "%2e" (objabi.PathToPrefix).
// So "github.com/a/b-c.(*T).M" appears as "github.com_a_b_c.__T_.M" and the package cannot be read
// back from the name alone; Attribution maps names to packages by their mangled prefixes.
var nameRegexp = regexp.MustCompile(`[^\w.]`)

// mangle is the form a package path takes at the start of a function name in the name section.
func mangle(pkgPath string) string {
	return nameRegexp.ReplaceAllString(pathToPrefix(pkgPath), "_")
}

// pathToPrefix is cmd/internal/objabi.PathToPrefix.
func pathToPrefix(s string) string {
	slash := strings.LastIndex(s, "/")
	var b strings.Builder
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || (c == '.' && i > slash) || c == '%' || c == '"' || c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Pseudo packages for functions that belong to no import path.
const (
	pkgCompilerGen = "(compiler-generated: type:.eq/hash wrappers)"
	pkgUnknown     = "(unattributed)"
)

// PkgResolver maps function names to package import paths.
type PkgResolver struct {
	prefixes []prefix // longest first
}

type prefix struct{ mangled, path string }

// NewPkgResolver knows pkgs (import paths, e.g. from go list -deps) and the main package's import
// path (its symbols are named "main.…"). Names that match none are cut at their first "." with
// "_" read as "/", which is right for standard-library packages without "_" in their names
// (e.g. runtime/debug functions that the runtime defines through linkname).
func NewPkgResolver(pkgs []string, mainPkg string) *PkgResolver {
	r := &PkgResolver{}
	for _, p := range pkgs {
		r.prefixes = append(r.prefixes, prefix{mangle(p) + ".", p})
	}
	if mainPkg != "" {
		r.prefixes = append(r.prefixes, prefix{"main.", mainPkg})
	}
	sort.Slice(r.prefixes, func(i, j int) bool { return len(r.prefixes[i].mangled) > len(r.prefixes[j].mangled) })
	return r
}

// Package returns the import path that defines the function named name.
func (r *PkgResolver) Package(name string) string {
	if strings.HasPrefix(name, "type_.") || strings.HasPrefix(name, "go_.") || name == "go_buildid" {
		return pkgCompilerGen
	}
	for _, p := range r.prefixes {
		if strings.HasPrefix(name, p.mangled) {
			return p.path
		}
	}
	// Assembly entry points and helpers of the runtime without a package prefix
	// (wasm_pc_f_loop, _rt0_wasm_js, gcWriteBarrier, memchr, ...).
	if !strings.Contains(name, ".") {
		return "runtime"
	}
	if i := strings.Index(name, "."); i > 0 {
		return strings.ReplaceAll(name[:i], "_", "/")
	}
	return pkgUnknown
}

// Group is the coarse owner of a package: the module for third-party and this project's code,
// "std: <top-level dir>" for the standard library.
func Group(pkg, mainModule string) string {
	switch {
	case strings.HasPrefix(pkg, "("):
		return pkg
	case mainModule != "" && (pkg == mainModule || strings.HasPrefix(pkg, mainModule+"/")):
		return "this module: " + pkg
	}
	first, _, _ := strings.Cut(pkg, "/")
	if !strings.Contains(first, ".") {
		if first == "internal" || first == "vendor" {
			return "std: internal/, vendor/"
		}
		return "std: " + first + "/…"
	}
	parts := strings.Split(pkg, "/")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return "module: " + strings.Join(parts, "/")
}

// Row is one line of a size table.
type Row struct {
	Key   string
	Funcs int
	Code  int // function body bytes
	Gzip  int // the bodies concatenated, gzip -9 alone (an estimate of their share on the wire)
}

// CodeBy aggregates function body sizes by key(function name).
func CodeBy(m *Module, key func(name string) string) []Row {
	rows := map[string]*Row{}
	bodies := map[string]*bytes.Buffer{}
	for i, body := range m.Bodies {
		k := key(m.FuncName(i))
		r := rows[k]
		if r == nil {
			r = &Row{Key: k}
			rows[k] = r
			bodies[k] = &bytes.Buffer{}
		}
		r.Funcs++
		r.Code += len(body) + ulebLen(uint64(len(body)))
		bodies[k].Write(body)
	}
	out := make([]Row, 0, len(rows))
	for k, r := range rows {
		r.Gzip = deflatedSize(bodies[k].Bytes())
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Code != out[j].Code {
			return out[i].Code > out[j].Code
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func ulebLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// deflatedSize is len(gzip -9 b) (deflate at best compression plus gzip's 18-byte framing).
func deflatedSize(b []byte) int {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Len() + 18
}

// Pclntab describes the runtime's PC/line table found in the data segments (runtime.pcHeader,
// Go 1.20+ layout). Sizes in bytes.
type Pclntab struct {
	Found                                     bool
	NFunc                                     int
	FuncNames, CUTab, FileTab, PCTab, FuncTab int
}

// Total is the whole table's size.
func (p Pclntab) Total() int {
	return p.FuncNames + p.CUTab + p.FileTab + p.PCTab + p.FuncTab + 8*8
}

// FindPclntab locates the pcHeader (magic 0xfffffff1, minLC 1, ptrSize 8 on wasm) in the data
// segments and sizes its sub-tables. The functab's end is computed from its largest _func.
func FindPclntab(m *Module) Pclntab {
	mem := flatten(m.Data)
	if mem == nil {
		return Pclntab{}
	}
	magic := []byte{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8}
	for off := 0; ; {
		i := bytes.Index(mem.b[off:], magic)
		if i < 0 {
			return Pclntab{}
		}
		h := off + i
		off = h + 1
		if (int64(h)+mem.base)%8 != 0 {
			continue
		}
		u := func(k int) int { // k-th uintptr field after the 8-byte header start
			return int(binary.LittleEndian.Uint64(mem.at(h+8+8*k, 8)))
		}
		nfunc, nameOff, cuOff, fileOff, pcOff, pclnOff := u(0), u(3), u(4), u(5), u(6), u(7)
		if nfunc <= 0 || nfunc > 1<<22 || !(nameOff < cuOff && cuOff <= fileOff && fileOff <= pcOff && pcOff <= pclnOff) ||
			h+pclnOff+8*(nfunc+1) > mem.end() {
			continue
		}
		// functab: nfunc+1 {entryoff, funcoff uint32}; each funcoff points at a _func (44 bytes,
		// then npcdata and nfuncdata uint32 offsets) relative to the functab start.
		ft := h + pclnOff
		end := 8 * (nfunc + 1)
		for f := 0; f < nfunc; f++ {
			fo := int(binary.LittleEndian.Uint32(mem.at(ft+8*f+4, 4)))
			if ft+fo+44 > mem.end() {
				continue
			}
			npcdata := int(binary.LittleEndian.Uint32(mem.at(ft+fo+28, 4)))
			nfuncdata := int(mem.at(ft+fo+43, 1)[0])
			if e := fo + 44 + 4*npcdata + 4*nfuncdata; e > end {
				end = e
			}
		}
		return Pclntab{Found: true, NFunc: nfunc, FuncNames: cuOff - nameOff, CUTab: fileOff - cuOff,
			FileTab: pcOff - fileOff, PCTab: pclnOff - pcOff, FuncTab: end}
	}
}

// flatMem is the data segments laid out at their offsets (gaps are zero, as in linear memory).
type flatMem struct {
	base int64
	b    []byte
}

func (f *flatMem) end() int { return len(f.b) }

func (f *flatMem) at(off, n int) []byte {
	if off < 0 || off+n > len(f.b) {
		return make([]byte, n)
	}
	return f.b[off : off+n]
}

func flatten(segs []DataSegment) *flatMem {
	var lo, hi int64 = -1, 0
	for _, s := range segs {
		if s.Offset < 0 {
			continue
		}
		if lo < 0 || s.Offset < lo {
			lo = s.Offset
		}
		if e := s.Offset + int64(len(s.Bytes)); e > hi {
			hi = e
		}
	}
	if lo < 0 || hi-lo > 1<<30 {
		return nil
	}
	// Offsets are kept absolute-from-lo; pcHeader alignment is checked on these, and Go's data
	// starts at an aligned address, so relative alignment equals absolute alignment.
	f := &flatMem{base: lo, b: make([]byte, hi-lo)}
	for _, s := range segs {
		if s.Offset >= 0 {
			copy(f.b[s.Offset-lo:], s.Bytes)
		}
	}
	return f
}
