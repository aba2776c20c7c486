// Command wasmsize attributes the bytes of a Go js/wasm binary to Go packages (`make size-breakdown`).
//
// It builds the main package for GOOS=js GOARCH=wasm with the bundle's flags (env GOFLAGS_WASM,
// which the Makefile exports; default defaultFlags) minus the linker's -s, which only drops the
// "name" custom section: the code is byte-identical, which wasmsize checks. It reads the function names from the name section and adds up the code
// section's function bodies per package, per module and per function. Package paths come from
// `go list -deps`, because the linker mangles names ("/" and "-" become "_"). The data section is
// split into the runtime's PC/line table (found through its pcHeader) and everything else.
// With -base (e.g. the hello-world program) every row also shows what the program adds on top.
//
// Usage (from the repo root; a native program):
//
//	go run ./wasm/internal/wasmsize [-base ./wasm/internal/hello] [-top 30] [-funcs 20] ./wasm/cmd/pkce-wasm
//	go run ./wasm/internal/wasmsize -wasm named.wasm ./wasm/cmd/pkce-wasm   # analyze a given build
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

type options struct {
	pkg, base, wasmFile string
	top, funcs          int
}

func run(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("wasmsize", flag.ContinueOnError)
	fs.StringVar(&o.base, "base", "", "also build this main package (e.g. ./wasm/internal/hello) and show each row's growth over it")
	fs.StringVar(&o.wasmFile, "wasm", "", "analyze this wasm (built without -s) instead of building the package")
	fs.IntVar(&o.top, "top", 30, "package rows to print")
	fs.IntVar(&o.funcs, "funcs", 20, "largest functions to print")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: wasmsize [-base pkg] [-wasm file] [-top n] [-funcs n] <main package>")
	}
	o.pkg = fs.Arg(0)

	tmp, err := os.MkdirTemp("", "wasmsize")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	named := o.wasmFile
	var stripped string
	if named == "" {
		named = filepath.Join(tmp, "named.wasm")
		stripped = filepath.Join(tmp, "stripped.wasm")
		if err := goBuild(o.pkg, named, false); err != nil {
			return err
		}
		if err := goBuild(o.pkg, stripped, true); err != nil {
			return err
		}
	}
	m, err := load(named)
	if err != nil {
		return err
	}
	pkgs, mainPkg, err := goList(o.pkg)
	if err != nil {
		return err
	}
	mainMod, _ := goCmd("list", "-m")
	mainMod = strings.TrimSpace(mainMod)
	res := NewPkgResolver(pkgs, mainPkg)

	var base *Module
	var baseRes *PkgResolver
	if o.base != "" {
		f := filepath.Join(tmp, "base.wasm")
		if err := goBuild(o.base, f, false); err != nil {
			return err
		}
		if base, err = load(f); err != nil {
			return err
		}
		bp, bmain, err := goList(o.base)
		if err != nil {
			return err
		}
		baseRes = NewPkgResolver(bp, bmain)
	}

	fmt.Fprintf(out, "wasmsize: %s (GOOS=js GOARCH=wasm go build %s", o.pkg, strings.Join(buildFlags(false), " "))
	if o.wasmFile != "" {
		fmt.Fprintf(out, "; file %s", o.wasmFile)
	}
	fmt.Fprintln(out, ")")
	if stripped != "" {
		s, err := loadAny(stripped)
		if err != nil {
			return err
		}
		same := s.SectionSize(10) == m.SectionSize(10) && s.SectionSize(11) == m.SectionSize(11)
		fmt.Fprintf(out, "shipped build (with -s): %s bytes = this build %s bytes − name section %s bytes; code and data identical: %v\n",
			num(s.Size), num(m.Size), num(m.Size-s.Size), same)
	}
	printSections(out, m, base)
	printData(out, m, base)

	pkgOf := res.Package
	var basePkgRows map[string]Row
	if base != nil {
		basePkgRows = index(CodeBy(base, baseRes.Package))
	}
	groupOf := func(name string) string { return Group(pkgOf(name), mainMod) }
	var baseGroupRows map[string]Row
	if base != nil {
		baseGroupRows = index(CodeBy(base, func(n string) string { return Group(baseRes.Package(n), mainMod) }))
	}
	code := 0
	for _, b := range m.Bodies {
		code += len(b) + ulebLen(uint64(len(b)))
	}
	fmt.Fprintf(out, "\ncode by owner (function bodies: %s bytes in %s functions)\n", num(code), num(len(m.Bodies)))
	printRows(out, CodeBy(m, groupOf), code, baseGroupRows, 0)
	fmt.Fprintf(out, "\ncode by package (top %d)\n", o.top)
	printRows(out, CodeBy(m, pkgOf), code, basePkgRows, o.top)

	if imp, err := goImporters(o.pkg); err == nil {
		fmt.Fprintln(out, "\nwho links the largest packages in (direct importers among the program's packages)")
		shown := 0
		for _, r := range CodeBy(m, pkgOf) {
			if shown == 12 {
				break
			}
			if strings.HasPrefix(r.Key, "(") || r.Key == "runtime" {
				continue
			}
			shown++
			by := imp[r.Key]
			if len(by) > 8 {
				by = append(by[:8:8], fmt.Sprintf("… %d more", len(imp[r.Key])-8))
			}
			fmt.Fprintf(out, "  %-34s ← %s\n", r.Key, strings.Join(by, ", "))
		}
	}

	fmt.Fprintf(out, "\nlargest functions (top %d)\n", o.funcs)
	fns := CodeBy(m, func(n string) string { return n })
	if len(fns) > o.funcs {
		fns = fns[:o.funcs]
	}
	for _, r := range fns {
		fmt.Fprintf(out, "  %9s  %s\n", num(r.Code), r.Key)
	}
	return nil
}

func load(path string) (*Module, error) {
	m, err := loadAny(path)
	if err == nil && len(m.Names) == 0 {
		return nil, fmt.Errorf("%s has no function names (built with -ldflags=-s?); build it with -ldflags=-w only", path)
	}
	return m, err
}

// loadAny parses path; the name section may be missing.
func loadAny(path string) (*Module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func goCmd(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(b), nil
}

// defaultFlags are the bundle's build flags when GOFLAGS_WASM is not set (Makefile's value).
const defaultFlags = `-trimpath -gcflags=all=-l -ldflags="-s -w"`

// buildFlags are the bundle's flags (GOFLAGS_WASM), with -s dropped from -ldflags unless strip.
func buildFlags(strip bool) []string {
	raw := os.Getenv("GOFLAGS_WASM")
	if strings.TrimSpace(raw) == "" {
		raw = defaultFlags
	}
	var out []string
	for _, f := range splitQuoted(raw) {
		if v, ok := strings.CutPrefix(f, "-ldflags="); ok && !strip {
			var keep []string
			for _, l := range strings.Fields(v) {
				if l != "-s" {
					keep = append(keep, l)
				}
			}
			f = "-ldflags=" + strings.Join(keep, " ")
		}
		out = append(out, f)
	}
	return out
}

// splitQuoted splits s at spaces outside double or single quotes and removes the quotes, as a
// shell does with `-trimpath -ldflags="-s -w"`.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, inWord = r, true
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n'):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

func goBuild(pkg, out string, strip bool) error {
	args := append([]string{"build"}, buildFlags(strip)...)
	_, err := goCmd(append(args, "-o", out, pkg)...)
	return err
}

// goList returns the import paths of pkg and its dependencies, and pkg's own import path.
func goList(pkg string) (deps []string, mainPkg string, err error) {
	s, err := goCmd("list", "-deps", "-f", "{{.ImportPath}}", pkg)
	if err != nil {
		return nil, "", err
	}
	m, err := goCmd("list", "-f", "{{.ImportPath}}", pkg)
	if err != nil {
		return nil, "", err
	}
	return strings.Fields(s), strings.TrimSpace(m), nil
}

// goImporters maps each dependency of pkg to the packages (among pkg's dependencies) importing it.
func goImporters(pkg string) (map[string][]string, error) {
	s, err := goCmd("list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", pkg)
	if err != nil {
		return nil, err
	}
	imp := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		for _, dep := range f[1:] {
			imp[dep] = append(imp[dep], f[0])
		}
	}
	return imp, nil
}

func index(rows []Row) map[string]Row {
	m := make(map[string]Row, len(rows))
	for _, r := range rows {
		m[r.Key] = r
	}
	return m
}

func printSections(out io.Writer, m, base *Module) {
	fmt.Fprintf(out, "\n%-34s %12s %7s", "section", "bytes", "%")
	if base != nil {
		fmt.Fprintf(out, " %12s %12s", "base", "growth")
	}
	fmt.Fprintln(out)
	type agg struct {
		label string
		size  int
	}
	sum := func(mod *Module) ([]agg, map[string]int) {
		var order []agg
		by := map[string]int{}
		for _, s := range mod.Sections {
			l := s.Label()
			if _, ok := by[l]; !ok {
				order = append(order, agg{label: l})
			}
			by[l] += s.Size
		}
		return order, by
	}
	order, by := sum(m)
	var baseBy map[string]int
	if base != nil {
		_, baseBy = sum(base)
	}
	for _, a := range order {
		fmt.Fprintf(out, "%-34s %12s %6.1f%%", a.label, num(by[a.label]), pct(by[a.label], m.Size))
		if base != nil {
			fmt.Fprintf(out, " %12s %12s", num(baseBy[a.label]), signed(by[a.label]-baseBy[a.label]))
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "%-34s %12s %6.1f%%", "total", num(m.Size), 100.0)
	if base != nil {
		fmt.Fprintf(out, " %12s %12s", num(base.Size), signed(m.Size-base.Size))
	}
	fmt.Fprintln(out)
}

func printData(out io.Writer, m, base *Module) {
	data := 0
	for _, s := range m.Data {
		data += len(s.Bytes)
	}
	p := FindPclntab(m)
	fmt.Fprintf(out, "\ndata segments: %s bytes of initialized memory in %d segments\n", num(data), len(m.Data))
	if !p.Found {
		fmt.Fprintln(out, "  (runtime pcHeader not found: no pclntab breakdown)")
		return
	}
	var bp Pclntab
	if base != nil {
		bp = FindPclntab(base)
	}
	line := func(label string, v, b int) {
		fmt.Fprintf(out, "  %-44s %12s", label, num(v))
		if base != nil && bp.Found {
			fmt.Fprintf(out, "   base %10s  growth %10s", num(b), signed(v-b))
		}
		fmt.Fprintln(out)
	}
	line(fmt.Sprintf("pclntab (runtime PC tables, %s funcs)", num(p.NFunc)), p.Total(), bp.Total())
	line("  funcnametab (function names)", p.FuncNames, bp.FuncNames)
	line("  pctab (pc-value tables: sp, line, file)", p.PCTab, bp.PCTab)
	line("  functab + _func records", p.FuncTab, bp.FuncTab)
	line("  filetab + cutab (source file names)", p.FileTab+p.CUTab, bp.FileTab+bp.CUTab)
	other := data - p.Total()
	bo := 0
	if base != nil && bp.Found {
		for _, s := range base.Data {
			bo += len(s.Bytes)
		}
		bo -= bp.Total()
	}
	line("other (type descriptors, itabs, strings, vars)", other, bo)
}

func printRows(out io.Writer, rows []Row, total int, base map[string]Row, limit int) {
	fmt.Fprintf(out, "  %-62s %6s %11s %6s %11s", "", "funcs", "code bytes", "%", "gzip alone")
	if base != nil {
		fmt.Fprintf(out, " %11s", "vs base")
	}
	fmt.Fprintln(out)
	rest := Row{Key: "(other packages)"}
	for i, r := range rows {
		if limit > 0 && i >= limit {
			rest.Funcs += r.Funcs
			rest.Code += r.Code
			rest.Gzip += r.Gzip
			continue
		}
		printRow(out, r, total, base, true)
	}
	if rest.Funcs > 0 {
		printRow(out, rest, total, nil, base != nil)
	}
}

func printRow(out io.Writer, r Row, total int, base map[string]Row, withBase bool) {
	key := r.Key
	if len(key) > 62 {
		key = "…" + key[len(key)-61:]
	}
	fmt.Fprintf(out, "  %-62s %6d %11s %5.1f%% %11s", key, r.Funcs, num(r.Code), pct(r.Code, total), num(r.Gzip))
	if base != nil {
		if b, ok := base[r.Key]; ok {
			fmt.Fprintf(out, " %11s", signed(r.Code-b.Code))
		} else {
			fmt.Fprintf(out, " %11s", "new")
		}
	} else if withBase {
		fmt.Fprintf(out, " %11s", "")
	}
	fmt.Fprintln(out)
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func signed(n int) string {
	if n > 0 {
		return "+" + num(n)
	}
	if n < 0 {
		return "−" + num(-n)
	}
	return "0"
}

// num formats n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
