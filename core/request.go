package core

import "net/netip"

// Request is the read-only view of an HTTP request that algorithms, ACLs and
// policy scripts see. It is already sanitised before anything outside the
// engine looks at it: framing was validated (a conflicting Content-Length
// and Transfer-Encoding is a 400 before any chooser runs), and Connection,
// Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade (unless the
// request is a WebSocket upgrade) and every field named in Connection are
// gone (docs/engine.md, "The request view"). In `mode tcp` the view has the
// addresses only.
//
// Implementations return slices into the engine's own buffers: callers must
// not keep or modify them after the call that received the Request returns.
// Returning []byte rather than string keeps the fast path free of allocations.
type Request interface {
	Method() []byte
	// URI is the request target as received (path and query).
	URI() []byte
	// Path is the URI without the query string.
	Path() []byte
	// Query is what follows '?', without it; empty when there is none.
	Query() []byte
	// Header returns the first value of the named header (case-insensitive).
	Header(name string) ([]byte, bool)
	// NumHeaders and HeaderAt walk every header line in order.
	NumHeaders() int
	HeaderAt(i int) (name, value []byte)
	// Src is the client address (after any PROXY protocol).
	Src() netip.AddrPort
	// Dst is the local address the client connected to.
	Dst() netip.AddrPort
	// TLS reports whether the client connection is TLS (`ssl_fc`).
	TLS() bool
}
