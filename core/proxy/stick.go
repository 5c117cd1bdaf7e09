package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/sticktable"
)

// Stick counters (docs/stick-tables.md), with HAProxy's lifetimes:
//
//   - `tcp-request connection track-scN` tracks for the connection's life:
//     conn_cur counts it until it closes, and each HTTP request on it
//     counts in http_req_*;
//   - `http-request track-scN` and `tcp-request content track-scN` track
//     for the transaction: conn_cur counts it (and http_req_* once) until
//     the response is done;
//   - sc_* fetches read the transaction's counter N, else the connection's;
//   - at the end of a transaction its 4xx (or a deny) counts in
//     http_err_*, its bytes in bytes_in_*/bytes_out_*, on every counter
//     tracked (the transaction's, else the connection's, per N).
//
// A frontend without tracking rules pays one nil check per request.

// TrackKind is what a tracking rule does.
type TrackKind uint8

const (
	TrackSC      TrackKind = iota // track-scN KEY
	TrackIncGPC0                  // sc-inc-gpc0(N)
	TrackSetGPT0                  // sc-set-gpt0(N) VALUE
	TrackIncGPC1                  // sc-inc-gpc1(N)
)

// TrackRule is the stick-counter part of an http-request or tcp-request rule.
type TrackRule struct {
	Kind      TrackKind
	Slot      int
	Key       *sample.Expr // TrackSC
	keySrc    bool         // Key is plain `src`: read the address, no evaluation
	TableName string       // "": the rule's own proxy's table
	Table     *sticktable.Table
	Value     uint64 // TrackSetGPT0
}

// scSlot is one tracked counter.
type scSlot struct {
	t *sticktable.Table
	e *sticktable.Entry
}

// connCounters are the counters a connection's tcp-request connection
// rules track, released when it closes.
type connCounters struct{ slots [3]scSlot }

// scState is a session's view of its counters.
type scState struct {
	req    [3]scSlot // tracked by this transaction
	nreq   int       // how many of req are set
	conn   *connCounters
	table  *sticktable.Table // the table of the proxy whose rules run
	tables *sticktable.Set
	denied bool // the transaction was denied: one http_err
	begun  bool // stickBegin ran: a request was read
	badReq bool // the connection failed before a request (stickServed)
	// Keys the stick store rules noted (stickpersist.go).
	stores   [maxStores]stickStore
	nstore   int
	pickedID int // the server stickPicked stored
}

func (st *scState) counter(n int) (*sticktable.Table, *sticktable.Entry) {
	if n < 0 || n > 2 {
		return nil, nil
	}
	if sl := st.req[n]; sl.e != nil {
		return sl.t, sl.e
	}
	if st.conn != nil {
		sl := st.conn.slots[n]
		return sl.t, sl.e
	}
	return nil, nil
}

func (st *scState) lookupTable(name string) *sticktable.Table {
	if name == "" {
		return st.table
	}
	return st.tables.Lookup(name)
}

// StickCounter and StickTable implement sample.StickCounters.
func (v *reqView) StickCounter(n int) (*sticktable.Table, *sticktable.Entry) {
	return v.s.st.counter(n)
}
func (v *reqView) StickTable(name string) *sticktable.Table { return v.s.st.lookupTable(name) }

func (v *tcpView) StickCounter(n int) (*sticktable.Table, *sticktable.Entry) {
	if v.st == nil {
		return nil, nil
	}
	return v.st.counter(n)
}
func (v *tcpView) StickTable(name string) *sticktable.Table {
	if v.st == nil {
		return nil
	}
	return v.st.lookupTable(name)
}

var (
	_ sample.StickCounters = (*reqView)(nil)
	_ sample.StickCounters = (*tcpView)(nil)
)

// trackKey computes a rule's key for table t into buf; ok false: no key
// (no sample, or one the table's type cannot hold), nothing is tracked.
func (r *TrackRule) trackKey(req core.Request, src netip.AddrPort, buf []byte) ([]byte, bool) {
	t := r.Table
	if r.keySrc {
		if !src.IsValid() {
			return nil, false
		}
		return t.KeyOfAddr(src.Addr(), buf)
	}
	ev := ruleEvals.Get().(*ruleEval)
	defer func() {
		ev.ctx.Reset()
		ruleEvals.Put(ev)
	}()
	sample.RequestCtx(&ev.ctx, req)
	v, scr, ok := r.Key.Eval(&ev.ctx, ev.scratch[:0])
	ev.scratch = scr
	if !ok {
		return nil, false
	}
	return keyOfValue(t, &v, buf)
}

// keyOfValue converts a sample to t's key type as HAProxy casts it.
func keyOfValue(t *sticktable.Table, v *sample.Value, buf []byte) ([]byte, bool) {
	switch t.Def.Key {
	case sticktable.KeyIP, sticktable.KeyIPv6:
		switch v.Type {
		case sample.TypeAddr:
			return t.KeyOfAddr(v.Addr, buf)
		case sample.TypeStr, sample.TypeBin:
			a, err := netip.ParseAddr(string(v.Str))
			if err != nil {
				return nil, false
			}
			return t.KeyOfAddr(a, buf)
		}
	case sticktable.KeyInteger:
		switch v.Type {
		case sample.TypeInt, sample.TypeBool:
			return t.KeyOfInt(v.Int, buf), true
		case sample.TypeStr:
			n, err := strconv.ParseInt(string(v.Str), 10, 64)
			if err != nil {
				return nil, false
			}
			return t.KeyOfInt(n, buf), true
		}
	default:
		switch v.Type {
		case sample.TypeStr, sample.TypeBin:
			return t.KeyOfString(append(buf[:0], v.Str...)), true
		case sample.TypeAddr:
			return t.KeyOfString(v.Addr.AppendTo(buf[:0])), true
		case sample.TypeInt, sample.TypeBool:
			return t.KeyOfString(strconv.AppendInt(buf[:0], v.Int, 10)), true
		}
	}
	return nil, false
}

// trackInto tracks r's key in slot r.Slot of slots unless it is taken
// (only the first tracking rule of a counter applies, as HAProxy); it
// reports whether an entry was tracked.
func (r *TrackRule) trackInto(slots *[3]scSlot, req core.Request, src netip.AddrPort) bool {
	if slots[r.Slot].e != nil || r.Table == nil {
		return false
	}
	var buf [64]byte
	k, ok := r.trackKey(req, src, buf[:0])
	if !ok {
		return false
	}
	e := r.Table.Track(k)
	if e == nil {
		return false // table full of tracked entries (or nopurge)
	}
	r.Table.StartConn(e)
	slots[r.Slot] = scSlot{r.Table, e}
	return true
}

// scAction runs sc-inc-gpc0(N), sc-inc-gpc1(N) / sc-set-gpt0(N) on the
// tracked counter.
func (r *TrackRule) scAction(st *scState) {
	t, e := st.counter(r.Slot)
	if e == nil {
		return
	}
	switch r.Kind {
	case TrackIncGPC0:
		t.IncGPC0(e)
		return
	case TrackIncGPC1:
		t.IncGPC1(e)
		return
	}
	t.Set(e, sticktable.GPT0, r.Value)
}

// stickRule runs an http-request tracking rule.
func (s *session) stickRule(r *TrackRule) {
	if r.Kind != TrackSC {
		r.scAction(&s.st)
		return
	}
	if r.trackInto(&s.st.req, &s.view, s.src) {
		s.st.nreq++
		sl := s.st.req[r.Slot]
		sl.t.Inc(sl.e, sticktable.HTTPReqCnt, sticktable.HTTPReqRate, 1)
	}
}

// stickBegin readies the state for the request's rules.
func (s *session) stickBegin() {
	st := &s.st
	st.table, st.tables, st.denied, st.begun = s.f.cfg.Table, s.e.cfg.StickTables, false, true
}

// stickCountRequest counts the request in http_req_* on each counter
// tracked so far (the transaction's, else the connection's), once the
// tcp-request content rules ran, as HAProxy's stream_inc_http_req_ctr.
func (s *session) stickCountRequest() {
	st := &s.st
	if st.nreq == 0 && st.conn == nil {
		return
	}
	for n := 0; n < 3; n++ {
		if t, e := st.counter(n); e != nil {
			t.Inc(e, sticktable.HTTPReqCnt, sticktable.HTTPReqRate, 1)
		}
	}
}

// stickServed notes a connection that ended before a request was read (a
// bad request, a timeout, or closed before its first byte) but was not
// merely idle: HAProxy's mux counts it as an HTTP request and an error
// on the connection's counters.
func (s *session) stickServed() {
	st := &s.st
	if st.nstore > 0 {
		s.stickStoreServer()
	}
	if st.conn != nil && !st.begun && !s.park && (s.nreq == 0 || s.tx.due) {
		st.badReq = true
	}
}

// stickEnd counts the transaction's outcome (error, bytes) on every
// tracked counter and releases the transaction's own.
func (s *session) stickEnd(status int, in, out int64) {
	st := &s.st
	isErr := st.denied || status/100 == 4 || st.badReq
	if st.badReq {
		for _, sl := range st.conn.slots {
			if sl.e != nil {
				sl.t.Inc(sl.e, sticktable.HTTPReqCnt, sticktable.HTTPReqRate, 1)
			}
		}
	}
	for n := 0; n < 3; n++ {
		t, e := st.counter(n)
		if e == nil {
			continue
		}
		if isErr {
			t.Inc(e, sticktable.HTTPErrCnt, sticktable.HTTPErrRate, 1)
		}
		if in > 0 {
			t.Inc(e, sticktable.BytesInCnt, sticktable.BytesInRate, uint64(in))
		}
		if out > 0 {
			t.Inc(e, sticktable.BytesOutCnt, sticktable.BytesOutRate, uint64(out))
		}
	}
	for n := range st.req {
		if sl := st.req[n]; sl.e != nil {
			sl.t.Untrack(sl.e)
			st.req[n] = scSlot{}
		}
	}
	st.nreq, st.denied, st.table, st.begun, st.badReq = 0, false, nil, false, false
}

// stickActive reports whether the transaction has counters to settle.
func (s *session) stickActive() bool { return s.st.nreq > 0 || s.st.conn != nil }

// stickStream gives an HTTP/2 stream's session its connection's stick
// counters; stickStreamEnd lets go of them when the stream ends.
func (h *h2conn) stickStream(s *session) {
	if h.f.cfg.stick != nil {
		s.st.conn = h.f.connCountersOf(h.c)
	}
}

func stickStreamEnd(s *session) {
	if s.st.nreq > 0 { // a panic skipped the transaction's end
		s.stickEnd(0, 0, 0)
	}
	s.st.conn = nil
}

// frontStick is a frontend's live connection counters, keyed by the
// socket's addresses (the same through TLS and the event loop's
// connections, and unique among open connections).
type frontStick struct {
	conns sync.Map // connKey -> *connCounters
}

type connKey struct{ src, dst netip.AddrPort }

func connKeyOf(c net.Conn) connKey {
	return connKey{addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())}
}

// connTrack runs the tracking part of tcp-request connection rules: v is
// the rules' view; the counters are kept for the connection.
func (f *Frontend) connTrack(r *TrackRule, v *tcpView) {
	if v.st == nil {
		v.st = &scState{conn: &connCounters{}, table: f.cfg.Table, tables: f.e.cfg.StickTables}
	}
	r.trackInto(&v.st.conn.slots, v, v.src)
}

// keepConn stores the counters v's rules tracked for the connection c;
// released releases them at once (the connection was refused).
func (f *Frontend) keepConn(c net.Conn, v *tcpView, refused bool) {
	if v.st == nil || v.st.conn == nil {
		return
	}
	if refused || f.cfg.stick == nil {
		releaseConn(v.st.conn)
		return
	}
	f.cfg.stick.conns.Store(connKeyOf(c), v.st.conn)
}

// sessionRules evaluates tcp-request session rules, after the PROXY
// header (src and dst are the client's): as connection rules, tracking
// into the connection's counters. false: rejected, closed, released.
func (f *Frontend) sessionRules(c net.Conn, src, dst *netip.AddrPort, sv **sample.SessVars) bool {
	v := &tcpView{src: *src, dst: *dst, final: true}
	if cc := f.connCountersOf(c); cc != nil {
		v.st = &scState{conn: cc, table: f.cfg.Table, tables: f.e.cfg.StickTables}
	}
	var lv l4Vars
	lv.begin(v, *sv)
	defer func() { *src, *dst = v.src, v.dst; lv.done(sv) }()
	for i := range f.cfg.TCPSession {
		r := &f.cfg.TCPSession[i]
		if r.Cond != nil && !r.Cond.Match(v) {
			continue
		}
		if f.l4Do(r, v) { // tcpl4.go
			continue
		}
		if r.Reject {
			f.DeniedSess.Add(1)
			f.closeConnCounters(c)
			if v.st != nil {
				releaseConn(v.st.conn) // no-op for what closeConnCounters released
			}
			if l, ok := c.(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0)
			}
			return false
		}
		break
	}
	f.keepConn(c, v, false)
	return true
}

// countSession counts an accepted session on the connection's counters,
// as HAProxy's session_count_new once the connection and session rules
// accepted it.
func (f *Frontend) countSession(c net.Conn) {
	cc := f.connCountersOf(c)
	if cc == nil {
		return
	}
	for _, sl := range cc.slots {
		if sl.e != nil {
			sl.t.Inc(sl.e, sticktable.SessCnt, sticktable.SessRate, 1)
		}
	}
}

// connCountersOf returns the counters tracked for c, nil when none.
func (f *Frontend) connCountersOf(c net.Conn) *connCounters {
	if f.cfg.stick == nil {
		return nil
	}
	v, ok := f.cfg.stick.conns.Load(connKeyOf(c))
	if !ok {
		return nil
	}
	return v.(*connCounters)
}

// closeConnCounters releases c's counters when it closes.
func (f *Frontend) closeConnCounters(c net.Conn) {
	if f.cfg.stick == nil {
		return
	}
	if v, ok := f.cfg.stick.conns.LoadAndDelete(connKeyOf(c)); ok {
		releaseConn(v.(*connCounters))
	}
}

func releaseConn(cc *connCounters) {
	for i, sl := range cc.slots {
		if sl.e != nil {
			sl.t.Untrack(sl.e)
			cc.slots[i] = scSlot{}
		}
	}
}

// StickTables returns the engine's stick tables (the admin socket's show
// table); nil when the configuration declares none.
func (e *Engine) StickTables() *sticktable.Set { return e.cfg.StickTables }

// trackRuleOf compiles the stick-counter part of a configuration rule.
func trackRuleOf(action string, t *config.TrackSC) (*TrackRule, error) {
	r := &TrackRule{Slot: t.Slot, TableName: t.Table}
	switch {
	case strings.HasPrefix(action, "track-sc"):
		e, err := sample.Parse(t.Key, sample.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s key: %w", action, err)
		}
		r.Key, r.keySrc = e, e.FetchName() == "src" && !e.HasConverters()
	case strings.HasPrefix(action, "sc-inc-gpc0"):
		r.Kind = TrackIncGPC0
	case strings.HasPrefix(action, "sc-inc-gpc1"):
		r.Kind = TrackIncGPC1
	case strings.HasPrefix(action, "sc-set-gpt0"):
		r.Kind = TrackSetGPT0
		n, err := strconv.ParseUint(t.Value, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: value %q: %w", action, t.Value, err)
		}
		r.Value = n
	default:
		return nil, fmt.Errorf("%s: not a stick-counter action", action)
	}
	return r, nil
}

// isStickFetch reports the sc_*, scN_* and src_* fetches, which read the
// stick tables and so work in tcp-request rules.
func isStickFetch(name string) bool {
	if strings.HasPrefix(name, "src_") && name != "src_port" {
		return true
	}
	return len(name) > 3 && name[0] == 's' && name[1] == 'c' && (name[2] == '_' || (name[2] >= '0' && name[2] <= '2' && name[3] == '_'))
}

// bindStickTables builds the configuration's stick tables and points
// every tracking rule and proxy at its table.
func bindStickTables(out *Config, c *config.Config) error {
	set := sticktable.NewSet()
	for _, p := range c.Proxies {
		if p.StickTable != nil && !p.Disabled {
			set.Add(sticktable.New(stickTablesNeedServerID(c, p.StickTable.Def)))
		}
	}
	for _, s := range c.Peers { // `table` lines of peers sections (config/peers.go)
		for _, t := range s.Tables {
			set.Add(sticktable.New(stickTablesNeedServerID(c, t.Def)))
		}
	}
	out.StickTables = set
	resolve := func(own string, r *TrackRule) error {
		if r == nil || r.Kind != TrackSC {
			return nil
		}
		name := r.TableName
		if name == "" {
			name = own
		}
		if r.Table = set.Lookup(name); r.Table == nil {
			return fmt.Errorf("proxy %s: track-sc%d: no stick table %q", own, r.Slot, name)
		}
		return nil
	}
	for _, fc := range out.Frontends {
		fc.Table = set.Lookup(fc.Name)
		hasConn := false
		for _, rules := range [][]TCPRule{fc.TCPConnection, fc.TCPSession} {
			for i := range rules {
				hasConn = hasConn || rules[i].Track != nil
				if err := resolve(fc.Name, rules[i].Track); err != nil {
					return err
				}
			}
		}
		if hasConn {
			fc.stick = &frontStick{}
		}
		for i := range fc.TCPContent {
			if err := resolve(fc.Name, fc.TCPContent[i].Track); err != nil {
				return err
			}
		}
		for _, r := range fc.HTTPRequest {
			if err := resolve(fc.Name, r.Track); err != nil {
				return err
			}
		}
	}
	for _, bc := range out.Backends {
		bc.Table = set.Lookup(bc.Name)
		for i := range bc.Stick {
			r := &bc.Stick[i]
			if r.Table = set.Lookup(r.TableName); r.Table == nil {
				return fmt.Errorf("backend %s: stick: no stick table %q", bc.Name, r.TableName)
			}
		}
		for _, r := range bc.HTTPRequest {
			if err := resolve(bc.Name, r.Track); err != nil {
				return err
			}
		}
		for i := range bc.TCPContent {
			if err := resolve(bc.Name, bc.TCPContent[i].Track); err != nil {
				return err
			}
		}
	}
	return nil
}

// AdoptStickTables makes e's stick tables whose definitions did not
// change share their entries with prev's (a reload keeps the counters:
// rate limits are not reset). Call it before e starts serving; it returns
// the tables adopted. The reload's generation.Inheritor on the engine
// part is the caller.
func (e *Engine) AdoptStickTables(prev *Engine) []string {
	if prev == nil {
		return nil
	}
	return e.cfg.StickTables.Adopt(prev.cfg.StickTables)
}
