//go:build wasip1

// Package varde is the guest side of varde's WASM policy ABI
// (docs/wasm-abi.md): typed wrappers over the host functions of module
// "varde" and the result encoding of the entry points, so that a policy
// reads like its Lua twin.
//
// Values returned as []byte alias one package buffer and are valid until
// the next call into this package: copy them (string(b)) to keep them. A
// policy is single-threaded: the host never calls two entry points of one
// instance at once.
package varde

import "unsafe"

// NoOpinion is what an entry point returns to leave the decision to the
// built-in algorithm.
const NoOpinion uint64 = 0

// Health verdicts (health export).
const (
	HealthNoOpinion int32 = -1
	HealthDown      int32 = 0
	HealthUp        int32 = 1
)

// Admin states (Server.Admin).
const (
	AdminReady = 0
	AdminDrain = 1
	AdminMaint = 2
)

var (
	buf    = make([]byte, 256)
	result = make([]byte, 0, 256)
)

func ptr(s string) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

// Every Go function call costs a guest running under varde a trip to the
// host (wazero checks for a deadline at each loop header, and Go compiles
// every function as a loop), so the getters below call the host directly
// instead of through a shared closure-taking helper.

// fits reports a (buffer, capacity) -> length answer that was written; on
// a value too long it grows the buffer for the retry.
func fits(n int32) bool {
	if int(n) > len(buf) {
		buf = make([]byte, int(n)+64)
		return false
	}
	return true
}

func base() (unsafe.Pointer, uint32) { return unsafe.Pointer(&buf[0]), uint32(len(buf)) }

func got(n int32) ([]byte, bool) {
	if n < 0 || int(n) > len(buf) {
		return nil, false
	}
	return buf[:n], true
}

// Result encodes a name or key as an entry point's return value: the host
// reads len(s) bytes at the result buffer's address (ptr<<32 | len). An
// empty s is "no opinion".
func Result(s string) uint64 {
	if s == "" {
		return NoOpinion
	}
	result = append(result[:0], s...)
	return uint64(uintptr(unsafe.Pointer(&result[0])))<<32 | uint64(len(result))
}

// ResultBytes is Result for a byte slice (no string conversion).
func ResultBytes(b []byte) uint64 {
	if len(b) == 0 {
		return NoOpinion
	}
	result = append(result[:0], b...)
	return uint64(uintptr(unsafe.Pointer(&result[0])))<<32 | uint64(len(result))
}

// Method, Path, Query, Host and Src read the request view; Src is the
// client address (after PROXY protocol) without the port.
func Method() []byte {
	n := reqMethod(base())
	if !fits(n) {
		n = reqMethod(base())
	}
	b, _ := got(n)
	return b
}

func Path() []byte {
	n := reqPath(base())
	if !fits(n) {
		n = reqPath(base())
	}
	b, _ := got(n)
	return b
}

func Query() []byte {
	n := reqQuery(base())
	if !fits(n) {
		n = reqQuery(base())
	}
	b, _ := got(n)
	return b
}

func Host() []byte {
	n := reqHost(base())
	if !fits(n) {
		n = reqHost(base())
	}
	b, _ := got(n)
	return b
}

func Src() []byte {
	n := reqSrc(base())
	if !fits(n) {
		n = reqSrc(base())
	}
	b, _ := got(n)
	return b
}

// SSL reports whether the client connection is TLS.
func SSL() bool { return reqSSL() == 1 }

// Header returns the first value of the named request header.
func Header(name string) ([]byte, bool) {
	p, l := ptr(name)
	b, c := base()
	n := reqHeader(p, l, b, c)
	if !fits(n) {
		b, c = base()
		n = reqHeader(p, l, b, c)
	}
	return got(n)
}

// Cookie returns the value of the named request cookie.
func Cookie(name string) ([]byte, bool) {
	p, l := ptr(name)
	b, c := base()
	n := reqCookie(p, l, b, c)
	if !fits(n) {
		b, c = base()
		n = reqCookie(p, l, b, c)
	}
	return got(n)
}

// Fetch evaluates a HAProxy sample expression (docs/samples.md) such as
// "req.hdr(host),lower". ok is false when there is no sample or the
// expression does not compile.
func Fetch(expr string) ([]byte, bool) {
	p, l := ptr(expr)
	b, c := base()
	n := reqFetch(p, l, b, c)
	if !fits(n) {
		b, c = base()
		n = reqFetch(p, l, b, c)
	}
	return got(n)
}
