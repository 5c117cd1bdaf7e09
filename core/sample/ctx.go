package sample

import (
	"crypto/tls"
	"net/netip"

	"github.com/varde-lb/varde/core"
)

// Stage is where an expression is evaluated; a fetch lists the stages at
// which what it reads exists.
type Stage uint8

const (
	AtRequest  Stage = 1 << iota // http-request rules, ACLs, use_backend
	AtResponse                   // http-response rules
	AtLog                        // log-format, once the transaction ended

	AtAny = AtRequest | AtResponse | AtLog
)

// String names the stages for error messages.
func (s Stage) String() string {
	out := ""
	for _, n := range []struct {
		s    Stage
		name string
	}{{AtRequest, "request"}, {AtResponse, "response"}, {AtLog, "log"}} {
		if s&n.s != 0 {
			if out != "" {
				out += ", "
			}
			out += n.name
		}
	}
	return out
}

// Headers is a list of header lines (the response's, for res.hdr).
type Headers interface {
	NumHeaders() int
	HeaderAt(i int) (name, value []byte)
}

// Captures are the values of `capture request|response header` lines, in
// declaration order (capture.req.hdr(N)); logrec.Captures is one.
type Captures interface {
	Len() int
	At(i int) []byte
}

// Ctx is what an evaluation can see. Callers fill what exists at their
// stage and leave the rest zero; a fetch whose input is missing yields no
// sample rather than failing.
//
// Keep a Ctx in long-lived memory (a pooled session, a sync.Pool): fetches
// and converters are called through the registries, so the compiler cannot
// prove a Ctx on the stack stays there and would allocate one per call.
// The unexported fields are the evaluation's working storage, which is why
// a Ctx must not be shared by concurrent evaluations.
type Ctx struct {
	Req      core.Request // nil in mode tcp
	Src, Dst netip.AddrPort
	TLS      bool
	// TLSState is the client connection's TLS state (ssl_fc_*, ssl_c_*);
	// nil in cleartext and at log time.
	TLSState *tls.ConnectionState

	Frontend, Backend, Server string
	ServerID                  int // 0 when no server was chosen
	// PolicyVerdict is what the transaction's last policy call decided
	// (policy.verdict), empty when none ran.
	PolicyVerdict string
	// CacheName is the cache the response came from (res.cache_hit,
	// res.cache_name), empty for a server's.
	CacheName string
	Status    int // response status; 0 before the response
	// Response is set while http-response rules run: hdr() and friends
	// then read the response, as in HAProxy.
	Response                 bool
	Res                      Headers
	ReqCaptures, ResCaptures Captures
	// Dyn evaluates script-registered fetches and converters (lua.NAME);
	// Vars are the transaction's variables. Both nil without lua-load.
	Dyn  Dynamic
	Vars *Vars

	val, each, conv Value
	cv              convVisitor
}

// RequestCtx fills a Ctx from a request view (ACLs and request rules).
// Only the facts are written: the working storage needs no clearing, which
// keeps this cheap on the request path.
func RequestCtx(c *Ctx, req core.Request) {
	c.Req = req
	c.Src, c.Dst, c.TLS, c.TLSState = netip.AddrPort{}, netip.AddrPort{}, false, nil
	if req != nil {
		c.Src, c.Dst, c.TLS = req.Src(), req.Dst(), req.TLS()
		if ts, ok := req.(TLSStater); ok {
			c.TLSState = ts.TLSState()
		}
	}
	c.Frontend, c.Backend, c.Server, c.PolicyVerdict = "", "", "", ""
	c.ServerID, c.Status, c.Response = 0, 0, false
	c.Res, c.ReqCaptures, c.ResCaptures = nil, nil, nil
	c.Dyn, c.Vars = nil, nil
	if ss, ok := req.(ScriptState); ok {
		c.Dyn, c.Vars = ss.ScriptState()
	}
}

// Reset clears the facts, keeping nothing from an earlier transaction.
func (c *Ctx) Reset() { *c = Ctx{} }
