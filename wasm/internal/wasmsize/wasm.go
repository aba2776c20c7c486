package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Module is what wasmsize needs from a WebAssembly binary (WebAssembly Core Specification §5.5,
// "Modules"): the sections with their sizes, the function bodies and the function names from the
// "name" custom section (§7.4, "Name Section").
type Module struct {
	Size        int
	Sections    []Section
	NumImported int      // imported functions: they come first in the function index space
	Bodies      [][]byte // code section entries (size prefix excluded), in defined-function order
	Names       map[int]string
	Data        []DataSegment
}

// Section is one top-level section; Size counts its id byte, size field and payload.
type Section struct {
	ID   byte
	Name string // custom sections: their name
	Size int
}

// DataSegment is one active data segment: its payload and its memory offset when that is an
// i32.const expression (Go's linker always writes that form).
type DataSegment struct {
	Offset int64
	Bytes  []byte
}

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "datacount", "tag"}

// Label names the section for the report.
func (s Section) Label() string {
	if s.ID == 0 {
		return "custom " + fmt.Sprintf("%q", s.Name)
	}
	if int(s.ID) < len(sectionNames) {
		return sectionNames[s.ID]
	}
	return fmt.Sprintf("section %d", s.ID)
}

type reader struct {
	b   []byte
	off int
}

var errShort = errors.New("unexpected end of the WebAssembly binary")

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) uleb() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 value too long")
}

func (r *reader) sleb() (int64, error) {
	var v int64
	var shift uint
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
		if shift >= 64 {
			return 0, errors.New("LEB128 value too long")
		}
	}
}

func (r *reader) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.off) {
		return nil, errShort
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

func (r *reader) name() (string, error) {
	n, err := r.uleb()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

// Parse reads the parts of a WebAssembly module that the size report needs.
func Parse(b []byte) (*Module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary (no \\0asm magic)")
	}
	if v := binary.LittleEndian.Uint32(b[4:8]); v != 1 {
		return nil, fmt.Errorf("unsupported WebAssembly binary version %d", v)
	}
	m := &Module{Size: len(b), Names: map[int]string{}}
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		n, err := r.uleb()
		if err != nil {
			return nil, err
		}
		payload, err := r.bytes(n)
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		s := Section{ID: id, Size: r.off - start}
		p := &reader{b: payload}
		switch id {
		case 0:
			if s.Name, err = p.name(); err != nil {
				return nil, err
			}
			if s.Name == "name" {
				err = m.parseNames(p)
			}
		case 2:
			err = m.parseImports(p)
		case 10:
			err = m.parseCode(p)
		case 11:
			err = m.parseData(p)
		}
		if err != nil {
			return nil, fmt.Errorf("%s section: %w", s.Label(), err)
		}
		m.Sections = append(m.Sections, s)
	}
	return m, nil
}

func (m *Module) parseImports(r *reader) error {
	n, err := r.uleb()
	if err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		if _, err := r.name(); err != nil { // module
			return err
		}
		if _, err := r.name(); err != nil { // field
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0: // func: type index
			m.NumImported++
			_, err = r.uleb()
		case 1: // table: reftype, limits
			if _, err = r.byte(); err == nil {
				err = skipLimits(r)
			}
		case 2: // memory: limits
			err = skipLimits(r)
		case 3: // global: valtype, mut
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
			}
		case 4: // tag: attribute, type index
			if _, err = r.byte(); err == nil {
				_, err = r.uleb()
			}
		default:
			return fmt.Errorf("unknown import kind %d", kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func skipLimits(r *reader) error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.uleb(); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.uleb()
	}
	return err
}

func (m *Module) parseCode(r *reader) error {
	n, err := r.uleb()
	if err != nil {
		return err
	}
	m.Bodies = make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		size, err := r.uleb()
		if err != nil {
			return err
		}
		body, err := r.bytes(size)
		if err != nil {
			return err
		}
		m.Bodies = append(m.Bodies, body)
	}
	return nil
}

func (m *Module) parseData(r *reader) error {
	n, err := r.uleb()
	if err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		flags, err := r.uleb()
		if err != nil {
			return err
		}
		seg := DataSegment{Offset: -1}
		if flags == 2 { // active with explicit memory index
			if _, err := r.uleb(); err != nil {
				return err
			}
		}
		if flags == 0 || flags == 2 { // active: offset expression, ends with 0x0b
			op, err := r.byte()
			if err != nil {
				return err
			}
			if op == 0x41 { // i32.const
				if seg.Offset, err = r.sleb(); err != nil {
					return err
				}
			}
			for {
				c, err := r.byte()
				if err != nil {
					return err
				}
				if c == 0x0b {
					break
				}
			}
		}
		size, err := r.uleb()
		if err != nil {
			return err
		}
		if seg.Bytes, err = r.bytes(size); err != nil {
			return err
		}
		m.Data = append(m.Data, seg)
	}
	return nil
}

// parseNames reads the function names subsection (id 1); other subsections are skipped.
func (m *Module) parseNames(r *reader) error {
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.uleb()
		if err != nil {
			return err
		}
		sub, err := r.bytes(size)
		if err != nil {
			return err
		}
		if id != 1 {
			continue
		}
		s := &reader{b: sub}
		n, err := s.uleb()
		if err != nil {
			return err
		}
		for i := uint64(0); i < n; i++ {
			idx, err := s.uleb()
			if err != nil {
				return err
			}
			name, err := s.name()
			if err != nil {
				return err
			}
			m.Names[int(idx)] = name
		}
	}
	return nil
}

// FuncName is the name of the i-th defined function (code section entry i).
func (m *Module) FuncName(i int) string {
	if n, ok := m.Names[m.NumImported+i]; ok {
		return n
	}
	return fmt.Sprintf("func[%d]", m.NumImported+i)
}

// SectionSize sums the sizes of the sections with id.
func (m *Module) SectionSize(id byte) int {
	n := 0
	for _, s := range m.Sections {
		if s.ID == id {
			n += s.Size
		}
	}
	return n
}
