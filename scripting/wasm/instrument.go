package wasm

import (
	"errors"
	"fmt"
)

// Stopping a runaway guest without wazero's termination checks.
//
// wazero's WithCloseOnContextDone costs a watcher goroutine per call and a
// full exit from machine code to Go at every loop header (a Go-built guest
// has one in every function): 10 to 20 us per call in the process. Instead,
// every module is rewritten when it is compiled: a mutable i32 global,
// exported as stopGlobal, is added, and the body of every `loop` starts
// with
//
//	global.get $stop
//	if
//	  unreachable
//	end
//
// The watchdog sets the global when a call overruns (scripting.Deadline's
// cut hook); the guest traps at its next loop iteration and the instance
// is dropped. An execution that never ends passes a loop header again and
// again (or recurses until wazero's stack limit traps), so every runaway
// is stopped. wazero's compiler loads a global at a loop header afresh
// each iteration (the header block is not sealed when the load is
// lowered, so no earlier value is reused), which TestInfiniteLoopCut and
// its kin check with real modules.
//
// The rewriter decodes every instruction of the MVP, sign-extension,
// saturating conversion, bulk-memory and reference-types proposals (what
// Go, TinyGo and Rust emit without SIMD); any other opcode refuses the
// module, so nothing runs uninstrumented.

// stopGlobal is the export name of the added global.
const stopGlobal = "varde.stop"

// tickEvery is how many loop iterations run between two exits to Go.
const tickEvery = 1024

// loopCheck is inserted after each loop's block type (n is the countdown
// global, stop the stop global):
//
//	n = n - 1
//	if n == 0 {
//	  n = tickEvery
//	  drop(memory.grow 0)  ;; an exit to Go: see below
//	  if stop { unreachable }
//	}
//
// The exit to Go matters: machine code is not a safe point for Go's
// garbage collector, so a guest that never left it would block every
// stop-the-world, the watchdog's goroutine included (a deadlock).
// memory.grow by 0 pages is the cheapest exit wazero offers to a module
// without imports of ours, and it changes nothing.
func loopCheck(n, stop uint32) []byte {
	gn, sn := uleb32(n), uleb32(stop)
	var b []byte
	b = append(append(append(b, 0x23), gn...), 0x41, 0x01, 0x6B, 0x24) // n-1 -> n
	b = append(append(append(b, gn...), 0x23), gn...)
	b = append(b, 0x45, 0x04, 0x40) // i32.eqz if
	b = append(append(append(b, 0x41), sleb32(tickEvery)...), 0x24)
	b = append(b, gn...)
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1A) // memory.grow 0, drop
	b = append(append(b, 0x23), sn...)
	b = append(b, 0x04, 0x40, 0x00, 0x0B) // if stop: unreachable
	return append(b, 0x0B)
}

func sleb32(v int32) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}

var errTrunc = errors.New("truncated module")

// instrument returns bin with the stop global and the loop checks.
func instrument(bin []byte) ([]byte, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary")
	}
	secs, err := sections(bin[8:])
	if err != nil {
		return nil, err
	}
	var nImported, nDefined uint32
	hasGlobal, hasExport, hasMem := false, false, false
	for _, s := range secs {
		switch s.id {
		case 2:
			if nImported, hasMem, err = imports(s.body); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case 6:
			hasGlobal = true
			r := reader{b: s.body}
			if nDefined, err = r.u32(); err != nil {
				return nil, err
			}
		case 5:
			hasMem = true
		case 7:
			hasExport = true
		}
	}
	if !hasExport {
		return nil, errors.New("module exports nothing")
	}
	stop, count := nImported+nDefined, nImported+nDefined+1
	newGlobals := []byte{0x7F, 0x01, 0x41, 0x00, 0x0B, 0x7F, 0x01, 0x41}
	newGlobals = append(append(newGlobals, sleb32(tickEvery)...), 0x0B)
	out := append([]byte{}, bin[:8]...)
	for _, s := range secs {
		body := s.body
		if (s.id == 6 || (s.id == 7 && !hasGlobal)) && !hasMem {
			// memory.grow needs a memory: an empty one, not exported.
			out = appendSection(out, 5, []byte{0x01, 0x00, 0x00})
			hasMem = true
		}
		switch s.id {
		case 6:
			body = appendVec(body, 2, newGlobals)
		case 7:
			if !hasGlobal {
				out = appendSection(out, 6, appendVec(uleb32(0), 2, newGlobals))
			}
			exp := append(uleb32(uint32(len(stopGlobal))), stopGlobal...)
			body = appendVec(body, 1, append(append(exp, 0x03), uleb32(stop)...))
		case 10:
			if body, err = instrumentCode(body, loopCheck(count, stop)); err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
		}
		out = appendSection(out, s.id, body)
	}
	return out, nil
}

type wsection struct {
	id   byte
	body []byte
}

func sections(b []byte) ([]wsection, error) {
	var secs []wsection
	r := reader{b: b}
	for r.i < len(r.b) {
		id := r.b[r.i]
		r.i++
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		body, err := r.take(int(n))
		if err != nil {
			return nil, err
		}
		secs = append(secs, wsection{id, body})
	}
	return secs, nil
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = append(out, uleb32(uint32(len(body)))...)
	return append(out, body...)
}

// appendVec adds k elements to a vector (count, then elements).
func appendVec(vec []byte, k uint32, elems []byte) []byte {
	r := reader{b: vec}
	n, err := r.u32()
	if err != nil {
		n, r.i = 0, len(vec)
	}
	out := append(uleb32(n+k), vec[r.i:]...)
	return append(out, elems...)
}

// imports counts the imported globals and tells whether a memory is
// imported.
func imports(b []byte) (globals uint32, mem bool, err error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return 0, false, err
	}
	for range n {
		for range 2 { // module and field names
			l, err := r.u32()
			if err != nil {
				return 0, false, err
			}
			if _, err := r.take(int(l)); err != nil {
				return 0, false, err
			}
		}
		kind, err := r.byte()
		if err != nil {
			return 0, false, err
		}
		switch kind {
		case 0x00: // func: type index
			_, err = r.u32()
		case 0x01: // table: reftype, limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 0x02: // memory: limits
			mem = true
			err = r.limits()
		case 0x03: // global: valtype, mut
			globals++
			_, err = r.take(2)
		default:
			err = fmt.Errorf("import kind 0x%02x", kind)
		}
		if err != nil {
			return 0, false, err
		}
	}
	return globals, mem, nil
}

func instrumentCode(b []byte, check []byte) ([]byte, error) {
	r := reader{b: b}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := uleb32(n)
	for i := range n {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		fn, err := r.take(int(size))
		if err != nil {
			return nil, err
		}
		body, err := instrumentBody(fn, check)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = append(out, uleb32(uint32(len(body)))...)
		out = append(out, body...)
	}
	return out, nil
}

func instrumentBody(fn, check []byte) ([]byte, error) {
	r := reader{b: fn}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	for range groups {
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		if err := r.valtype(); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, len(fn)+len(fn)/8)
	out = append(out, fn[:r.i]...)
	for r.i < len(r.b) {
		start := r.i
		op := r.b[r.i]
		r.i++
		if err := r.immediates(op); err != nil {
			return nil, fmt.Errorf("offset %d: %w", start, err)
		}
		out = append(out, r.b[start:r.i]...)
		if op == 0x03 { // loop
			out = append(out, check...)
		}
	}
	return out, nil
}

// immediates skips the immediates of op.
func (r *reader) immediates(op byte) error {
	var err error
	switch {
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0B || op == 0x0F ||
		op == 0x1A || op == 0x1B || op == 0xD1 || (op >= 0x45 && op <= 0xC4):
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
		err = r.blocktype()
	case op == 0x0C || op == 0x0D || op == 0x10 || (op >= 0x20 && op <= 0x26) || op == 0xD2:
		_, err = r.u32() // label, function, local, global, table index
	case op == 0x0E: // br_table
		var n uint32
		if n, err = r.u32(); err == nil {
			err = r.skipU32s(int(n) + 1)
		}
	case op == 0x11: // call_indirect: type, table
		err = r.skipU32s(2)
	case op == 0x1C: // select t*
		var n uint32
		if n, err = r.u32(); err == nil {
			for range n {
				if err = r.valtype(); err != nil {
					break
				}
			}
		}
	case op >= 0x28 && op <= 0x3E: // memarg
		err = r.skipU32s(2)
	case op == 0x3F || op == 0x40: // memory.size/grow
		_, err = r.u32()
	case op == 0x41:
		err = r.skipLEB(5)
	case op == 0x42:
		err = r.skipLEB(10)
	case op == 0x43:
		_, err = r.take(4)
	case op == 0x44:
		_, err = r.take(8)
	case op == 0xD0: // ref.null t
		_, err = r.byte()
	case op == 0xFC:
		err = r.prefixFC()
	default:
		err = fmt.Errorf("opcode 0x%02x is not supported (varde instruments loops to stop runaway calls; SIMD, exceptions, tail calls and threads are refused)", op)
	}
	return err
}

func (r *reader) prefixFC() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncations
		return nil
	case sub == 8: // memory.init data, mem
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err = r.byte()
	case sub == 9 || sub == 13 || sub == 15 || sub == 16 || sub == 17:
		_, err = r.u32()
	case sub == 10: // memory.copy
		_, err = r.take(2)
	case sub == 11: // memory.fill
		_, err = r.byte()
	case sub == 12 || sub == 14: // table.init, table.copy
		err = r.skipU32s(2)
	default:
		err = fmt.Errorf("opcode 0xfc %d is not supported", sub)
	}
	return err
}

type reader struct {
	b []byte
	i int
}

func (r *reader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errTrunc
	}
	r.i++
	return r.b[r.i-1], nil
}

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || r.i+n > len(r.b) {
		return nil, errTrunc
	}
	r.i += n
	return r.b[r.i-n : r.i], nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7F) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 too long")
}

func (r *reader) skipLEB(max int) error {
	for range max {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return errors.New("LEB128 too long")
}

func (r *reader) skipU32s(n int) error {
	for range n {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) limits() error {
	flag, err := r.byte()
	if err != nil {
		return err
	}
	if flag > 1 {
		return fmt.Errorf("limits flag 0x%02x (shared or 64-bit memories are refused)", flag)
	}
	return r.skipU32s(1 + int(flag))
}

// isValtype: i32 i64 f32 f64 v128 funcref externref.
func isValtype(c byte) bool {
	return (c >= 0x7B && c <= 0x7F) || c == 0x70 || c == 0x6F
}

func (r *reader) valtype() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if !isValtype(c) {
		return fmt.Errorf("value type 0x%02x", c)
	}
	return nil
}

// blocktype: empty, a value type, or a type index (s33).
func (r *reader) blocktype() error {
	if r.i >= len(r.b) {
		return errTrunc
	}
	if c := r.b[r.i]; c == 0x40 || isValtype(c) {
		r.i++
		return nil
	}
	return r.skipLEB(5)
}

func uleb32(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}
