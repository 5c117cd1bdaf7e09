// Package logrec defines the per-transaction log Record the engine fills and
// the log pipeline encodes.
//
// How the engine fills it: each connection (TCP mode) or each HTTP
// transaction owns one Record, embedded in the engine's per-connection state
// and reused with Reset between transactions, so nothing is allocated on the
// request path. The engine sets the facts as they become known: Accept and
// Client when the connection is accepted, Request and RequestLine when the
// first request byte / the request line arrives, captured headers and cookies
// with AddReqHeader/AddResHeader/SetReqCookie in config order (an absent header
// is added as empty so the slots line up with the `capture` lines), Backend,
// Server and ServerAddr once a server is picked, the timers (milliseconds, -1
// for a phase not reached), Status, byte counters, the connection and queue
// counters at log time, and the termination state with SetTerm. When the
// transaction ends it calls Sink.Log(&rec) exactly once; the sink copies the
// Record into its own bounded queue before returning (it never keeps the
// pointer and never blocks on I/O), so the engine may Reset and reuse it at
// once. Strings (Frontend, Backend, Server) must be config-lifetime strings,
// not views into request buffers. Anonymisation is not the engine's job: the
// pipeline applies each target's `anonymize` setting before encoding.
package logrec

import "net/netip"

// Sizes of the fixed buffers. They bound what a log line can carry the same
// way HAProxy's tune.http.logurilen and `capture ... len N` do.
const (
	MaxCaptures      = 8    // capture request|response header lines per direction
	CaptureBytes     = 512  // bytes of captured header values per direction
	CookieBytes      = 64   // captured cookie (name=value)
	RequestLineBytes = 1024 // request line ("GET /x HTTP/1.1"), HAProxy's default logurilen
	MaxFields        = 16   // request header lines kept for a log-format
	FieldBytes       = 512  // bytes of those lines' values, shared fairly by their names
)

// Mode is the proxy mode the record describes.
type Mode uint8

const (
	ModeTCP  Mode = iota // tcplog fields only
	ModeHTTP             // httplog fields
	// ModeEvent is not a transaction but a proxy event HAProxy logs (a
	// server going DOWN, a health check): RequestLine holds the message
	// text, Status the syslog severity it is sent at, Backend the proxy.
	ModeEvent
)

// First character of the termination state (HAProxy §8.5): what ended the stream.
const (
	TermNone          = '-' // normal end
	TermClientAbort   = 'C'
	TermServerAbort   = 'S'
	TermProxy         = 'P' // denied, limits, security checks
	TermLocal         = 'L' // locally processed (stats, redirect, return)
	TermResource      = 'R' // resource exhausted
	TermInternal      = 'I'
	TermDown          = 'D' // killed because the server went down
	TermUp            = 'U' // killed on a backup when an active came back
	TermKilled        = 'K' // killed by admin
	TermClientTimeout = 'c'
	TermServerTimeout = 's'
)

// Second character of the termination state: the stream's state at that moment.
const (
	StateNone      = '-' // normal end
	StateRequest   = 'R' // waiting for a complete request
	StateQueue     = 'Q' // queued for a server
	StateConnect   = 'C' // connecting to the server
	StateHeaders   = 'H' // waiting for response headers
	StateData      = 'D' // data transfer
	StateLastData  = 'L' // sending the last data
	StateTarpitted = 'T'
)

// Record is every fact an HAProxy httplog/tcplog line (and varde's JSON line)
// needs. It holds only values and fixed-size arrays, so copying it into a
// queue slot allocates nothing.
type Record struct {
	Mode Mode
	TLS  bool // client connection is TLS: the frontend name gets HAProxy's "~" suffix
	// TLSVersion and TLSCipher are the client connection's TLS version
	// and cipher suite (crypto/tls IDs; %sslv, %sslc), 0 in cleartext.
	TLSVersion, TLSCipher uint16

	// Accept is when the connection was accepted (%t), Request when the first
	// byte of the request arrived (%tr); both Unix nanoseconds. Request 0 means
	// "same as Accept".
	Accept  int64
	Request int64

	Client       netip.AddrPort // %ci:%cp, after the PROXY protocol
	FrontendAddr netip.AddrPort // %fi:%fp
	ServerAddr   netip.AddrPort // %si:%sp; zero when no server was reached
	BackendSrc   netip.AddrPort // %bi:%bp, the server connection's local address (LogBackendSrc)

	Frontend string // %f / %ft
	Backend  string // %b; empty means the frontend itself
	Server   string // %s; empty is logged as <NOSRV>
	// Policy is what the transaction's last policy call decided
	// (core.PolicyNoter; the policy.verdict fetch), empty when none ran.
	Policy string

	// Timers in milliseconds, -1 when the phase was not reached (HAProxy §8.4).
	Th int32 // TLS/handshake
	Ti int32 // idle before the request
	TR int32 // receiving the request headers
	Tw int32 // waiting in queues
	Tc int32 // connecting to the server
	Tr int32 // server response headers
	Ta int32 // active time of the request (TR start to end)
	Tt int32 // total session time since accept (tcplog)
	// ASAP marks a record logged as soon as the response head was sent
	// (option logasap): Ta, Tt and B are partial and printed with a '+'.
	ASAP bool

	Status   int32 // HTTP status, -1 when none
	BytesOut int64 // %B: bytes sent to the client, headers included
	BytesIn  int64 // %U: bytes received from the client

	Term [4]byte // termination state; see SetTerm

	ActConn, FeConn, BeConn, SrvConn int32 // %ac %fc %bc %sc at log time
	Retries                          int32 // %rc
	Redispatched                     bool  // %rc printed as +N
	// LogLevel is set by set-log-level: 0 the default (info), n > 0 the
	// syslog level n-1, -1 silent (not logged). (Here it fills padding.)
	LogLevel               int8
	SrvQueue, BackendQueue int32 // %sq %bq
	// LogCount is %lc, the logs the frontend wrote before this one, and
	// ReqCount %rt, the transactions of the process before this one; the
	// log pipeline sets both, the engine leaves them 0.
	LogCount, ReqCount uint32 // unsigned int in HAProxy too: they wrap

	ReqCookie  Cookie // %CC
	ResCookie  Cookie // %CS
	ReqHeaders Captures
	ResHeaders Captures
	// LogHeaders are the lines of the request headers a log-format reads
	// with %[...]: varde does not keep a request after forwarding it.
	LogHeaders  Fields
	RequestLine Line // %r
	// Extra holds what only some transactions log (nil otherwise): it is
	// allocated for the transaction and never changed once logged, so
	// copies of the record share it.
	Extra *Extra
}

// Reset prepares r for the next transaction: counters zero, timers -1
// ("not reached"), termination state "----".
func (r *Record) Reset() {
	*r = Record{}
	r.Th, r.Ti, r.TR, r.Tw, r.Tc, r.Tr, r.Ta, r.Tt = -1, -1, -1, -1, -1, -1, -1, -1
	r.Status = -1
	r.Term = [4]byte{'-', '-', '-', '-'}
}

// SetTerm sets the termination state's first two characters (event, state);
// the cookie characters stay '-' unless set directly in Term[2:4].
func (r *Record) SetTerm(event, state byte) { r.Term[0], r.Term[1] = event, state }

// Null reports whether no data was received from the client, the case
// `option dontlognull` leaves out.
func (r *Record) Null() bool { return r.BytesIn == 0 && r.RequestLine.n == 0 }

// Cookie is a captured cookie (`capture cookie`), truncated to CookieBytes.
type Cookie struct {
	n uint8
	b [CookieBytes]byte
}

// Set stores v, truncated.
func (c *Cookie) Set(v []byte) { c.n = uint8(copy(c.b[:], v)) }

// Bytes returns the stored value; it aliases the Record.
func (c *Cookie) Bytes() []byte { return c.b[:c.n] }

// Line is the captured request line, truncated to RequestLineBytes.
type Line struct {
	n uint16
	b [RequestLineBytes]byte
}

// Set stores v, truncated.
func (l *Line) Set(v []byte) { l.n = uint16(copy(l.b[:], v)) }

// SetParts stores "METHOD URI VERSION" without the caller building it.
func (l *Line) SetParts(method, uri, version []byte) {
	n := copy(l.b[:], method)
	if n < len(l.b) {
		l.b[n] = ' '
		n++
	}
	n += copy(l.b[n:], uri)
	if len(version) > 0 && n < len(l.b) {
		l.b[n] = ' '
		n++
		n += copy(l.b[n:], version)
	}
	l.n = uint16(n)
}

// Bytes returns the stored line; it aliases the Record.
func (l *Line) Bytes() []byte { return l.b[:l.n] }

// Len is the stored length.
func (l *Line) Len() int { return int(l.n) }

// Captures holds the values of `capture request|response header` lines, in
// config order, in one shared buffer.
type Captures struct {
	n   uint8
	end [MaxCaptures]uint16
	buf [CaptureBytes]byte
}

// Fields keeps header lines, each as the index of its name in a list the
// caller holds and its value, in the order they came, in one buffer.
type Fields struct {
	n    uint8
	name [MaxFields]uint8
	end  [MaxFields]uint16
	buf  [FieldBytes]byte
}

// Add keeps the next line: value v of the name-th name, cut to max bytes
// and to the space left. It reports false when MaxFields lines are kept
// already (the line is dropped).
func (f *Fields) Add(name int, v []byte, max int) bool {
	if int(f.n) >= MaxFields {
		return false
	}
	if len(v) > max {
		v = v[:max]
	}
	start := 0
	if f.n > 0 {
		start = int(f.end[f.n-1])
	}
	n := copy(f.buf[start:], v)
	f.name[f.n], f.end[f.n] = uint8(name), uint16(start+n)
	f.n++
	return true
}

// Len is the number of lines kept.
func (f *Fields) Len() int { return int(f.n) }

// At returns line i's name index and value; the value aliases the Record.
func (f *Fields) At(i int) (name int, v []byte) {
	start := 0
	if i > 0 {
		start = int(f.end[i-1])
	}
	return int(f.name[i]), f.buf[start:f.end[i]]
}

// Add appends the next capture slot's value, truncated to max bytes (the
// capture line's `len`, <= 0 for no limit) and to the space left. Slots past
// MaxCaptures are ignored.
func (c *Captures) Add(v []byte, max int) {
	if int(c.n) >= MaxCaptures {
		return
	}
	if max > 0 && len(v) > max {
		v = v[:max]
	}
	start := 0
	if c.n > 0 {
		start = int(c.end[c.n-1])
	}
	n := copy(c.buf[start:], v)
	c.end[c.n] = uint16(start + n)
	c.n++
}

// Len is the number of slots filled.
func (c *Captures) Len() int { return int(c.n) }

// At returns slot i's value; it aliases the Record.
func (c *Captures) At(i int) []byte {
	start := 0
	if i > 0 {
		start = int(c.end[i-1])
	}
	return c.buf[start:c.end[i]]
}

// Sink receives finished records. Log copies *r before returning and never
// blocks on I/O (a full queue drops and counts, unless configured to block),
// so the caller may reuse r immediately.
type Sink interface {
	Log(r *Record)
}

// Discard is a Sink that drops everything, for engines with logging off.
type Discard struct{}

// Log implements Sink.
func (Discard) Log(*Record) {}

// Extra is the part of a record only some transactions have.
type Extra struct {
	// UniqueID is %ID (unique-id-format), at most 127 bytes; empty when
	// none.
	UniqueID []byte
	// Vars are the transaction's variables when it was logged, encoded by
	// sample.Vars.AppendSnapshot, for var() in log-format.
	Vars []byte
}

// UniqueIDOf returns r's unique id (nil when none).
func (r *Record) UniqueIDOf() []byte {
	if r.Extra == nil {
		return nil
	}
	return r.Extra.UniqueID
}

// VarsOf returns r's encoded variables (nil when none).
func (r *Record) VarsOf() []byte {
	if r.Extra == nil {
		return nil
	}
	return r.Extra.Vars
}

// Set replaces slot i's value (an http-request/http-response capture
// rule writing a declared slot), truncated to max bytes and to the space
// left; slots not filled yet are ignored.
func (c *Captures) Set(i int, v []byte, max int) {
	if i < 0 || i >= int(c.n) {
		return
	}
	if max > 0 && len(v) > max {
		v = v[:max]
	}
	start := 0
	if i > 0 {
		start = int(c.end[i-1])
	}
	old := int(c.end[i]) - start
	tail := int(c.end[c.n-1]) - int(c.end[i])
	room := CaptureBytes - (int(c.end[c.n-1]) - old)
	if len(v) > room {
		v = v[:room]
	}
	delta := len(v) - old
	copy(c.buf[start+len(v):], c.buf[int(c.end[i]):int(c.end[i])+tail])
	copy(c.buf[start:], v)
	for j := i; j < int(c.n); j++ {
		c.end[j] = uint16(int(c.end[j]) + delta)
	}
}
