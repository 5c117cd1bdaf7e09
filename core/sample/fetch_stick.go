package sample

import (
	"github.com/varde-lb/varde/core/sticktable"
)

// Stick-table fetches (§7.3.3): sc_*(N[,table]), sc0_* to sc2_*([table])
// read the entry a track-scN rule tracks; src_*([table]) look the
// client's address up in a table; both with HAProxy's results: an
// untracked counter gives no sample, a key not in the table reads 0, a
// data type the table does not store gives no sample.

// StickCounters is what the engine's request views give these fetches.
type StickCounters interface {
	// StickCounter returns the table and entry counter n tracks (the
	// transaction's first, then the connection's); nil when untracked.
	StickCounter(n int) (*sticktable.Table, *sticktable.Entry)
	// StickTable returns the table named name; "" is the table of the
	// proxy whose rules are running.
	StickTable(name string) *sticktable.Table
}

// stickRef is a resolved counter: the table and the entry (nil: the key
// is not in the table, which reads as 0).
type stickRef struct {
	t *sticktable.Table
	e *sticktable.Entry
}

func stickState(c *Ctx) StickCounters {
	if c.Req == nil {
		return nil
	}
	sc, _ := c.Req.(StickCounters)
	return sc
}

// resolveSC finds the entry of counter n, in table alt when one is named
// (the tracked key looked up there).
func resolveSC(c *Ctx, n int, alt string) (stickRef, bool) {
	sc := stickState(c)
	if sc == nil || n < 0 || n > 2 {
		return stickRef{}, false
	}
	t, e := sc.StickCounter(n)
	if e == nil {
		return stickRef{}, false
	}
	if alt == "" {
		return stickRef{t, e}, true
	}
	at := sc.StickTable(alt)
	if at == nil {
		return stickRef{}, false
	}
	return stickRef{at, at.LookupEntryKey(e)}, true
}

// resolveSrc finds the client address's entry in the named table (the
// running proxy's when name is "").
func resolveSrc(c *Ctx, name string, create bool) (stickRef, bool) {
	sc := stickState(c)
	if sc == nil || !c.Src.IsValid() {
		return stickRef{}, false
	}
	t := sc.StickTable(name)
	if t == nil {
		return stickRef{}, false
	}
	var buf [16]byte
	k, ok := t.KeyOfAddr(c.Src.Addr(), buf[:0])
	if !ok {
		return stickRef{}, false
	}
	if create {
		return stickRef{t, t.Get(k)}, true
	}
	return stickRef{t, t.Lookup(k)}, true
}

// readRef writes data type d of r into out: 0 for a missing entry, no
// sample when the table does not store d.
func readRef(r stickRef, d sticktable.DataType, out *Value) bool {
	if r.e == nil {
		out.SetInt(0)
		return true
	}
	v, ok := r.t.Read(r.e, d)
	if !ok {
		return false
	}
	out.SetInt(int64(v))
	return true
}

// stickOp is what one fetch does with the resolved counter.
type stickOp func(r stickRef, out *Value) bool

func readOp(d sticktable.DataType) stickOp {
	return func(r stickRef, out *Value) bool { return readRef(r, d, out) }
}

func incGPC0(r stickRef, out *Value) bool {
	if r.e == nil {
		out.SetInt(0)
		return true
	}
	v, ok := r.t.IncGPC0(r.e)
	if !ok {
		return false
	}
	out.SetInt(int64(v))
	return true
}

func compileSCIndex(args []string, a *Args) error {
	n, ok := parseInt([]byte(args[0]))
	if !ok || n < 0 || n > 2 {
		return errorf("counters 0, 1 and 2 exist", "stick counter %q: want 0, 1 or 2", args[0])
	}
	a.Int[0] = n
	if len(args) > 1 {
		a.Str[1] = args[1]
	}
	return nil
}

func registerStick(name, doc string, op stickOp, create bool) {
	RegisterFetch(&Fetch{Name: "sc_" + name, MinArgs: 1, MaxArgs: 2, Out: TypeInt, Where: AtRequest | AtResponse,
		Doc: "stick counter N (0 to 2), optionally looked up in TABLE: " + doc, Compile: compileSCIndex,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			r, ok := resolveSC(c, int(a.Int[0]), a.Str[1])
			return ok && op(r, out)
		}})
	for n := 0; n < 3; n++ {
		RegisterFetch(&Fetch{Name: "sc" + string(rune('0'+n)) + "_" + name, MaxArgs: 1, Out: TypeInt, Where: AtRequest | AtResponse,
			Doc: "as sc_" + name + "(" + string(rune('0'+n)) + "[,TABLE])",
			Eval: func(c *Ctx, a *Args, out *Value) bool {
				r, ok := resolveSC(c, n, a.Str[0])
				return ok && op(r, out)
			}})
	}
	RegisterFetch(&Fetch{Name: "src_" + name, MaxArgs: 1, Out: TypeInt, Where: AtRequest | AtResponse,
		Doc: "the client address's entry in TABLE (default: the proxy's own): " + doc,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			r, ok := resolveSrc(c, a.Str[0], create)
			return ok && op(r, out)
		}})
}

func init() {
	for _, d := range []struct {
		name string
		t    sticktable.DataType
		doc  string
	}{
		{"conn_cur", sticktable.ConnCur, "concurrent tracked connections"},
		{"conn_cnt", sticktable.ConnCnt, "tracked connections counted"},
		{"conn_rate", sticktable.ConnRate, "connection rate over the stored period"},
		{"sess_cnt", sticktable.SessCnt, "sessions counted"},
		{"sess_rate", sticktable.SessRate, "session rate over the stored period"},
		{"http_req_cnt", sticktable.HTTPReqCnt, "HTTP requests counted"},
		{"http_req_rate", sticktable.HTTPReqRate, "HTTP request rate over the stored period"},
		{"http_err_cnt", sticktable.HTTPErrCnt, "HTTP errors (4xx, denies) counted"},
		{"http_err_rate", sticktable.HTTPErrRate, "HTTP error rate over the stored period"},
		{"bytes_in_rate", sticktable.BytesInRate, "client bytes rate over the stored period"},
		{"bytes_out_rate", sticktable.BytesOutRate, "bytes-to-client rate over the stored period"},
		{"kbytes_in", sticktable.BytesInCnt, "client bytes counted, in kB"},
		{"kbytes_out", sticktable.BytesOutCnt, "bytes to the client counted, in kB"},
		{"get_gpc0", sticktable.GPC0, "general purpose counter 0"},
		{"gpc0_rate", sticktable.GPC0Rate, "increment rate of gpc0 over the stored period"},
		{"get_gpc1", sticktable.GPC1, "general purpose counter 1"},
		{"get_gpt0", sticktable.GPT0, "general purpose tag 0"},
	} {
		op := readOp(d.t)
		if d.name == "kbytes_in" || d.name == "kbytes_out" {
			op = kbytes(d.t)
		}
		registerStick(d.name, d.doc, op, false)
	}
	registerStick("inc_gpc0", "increments gpc0 (and gpc0_rate) and returns gpc0; src_inc_gpc0 creates the entry", incGPC0, true)
	registerTracked()
}

func kbytes(d sticktable.DataType) stickOp {
	return func(r stickRef, out *Value) bool {
		if !readRef(r, d, out) {
			return false
		}
		out.Int >>= 10
		return true
	}
}

func registerTracked() {
	RegisterFetch(&Fetch{Name: "sc_tracked", MinArgs: 1, MaxArgs: 2, Out: TypeBool, Where: AtRequest | AtResponse,
		Doc: "true when stick counter N is tracked", Compile: compileSCIndex,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			_, ok := resolveSC(c, int(a.Int[0]), a.Str[1])
			out.SetBool(ok)
			return true
		}})
	for n := 0; n < 3; n++ {
		RegisterFetch(&Fetch{Name: "sc" + string(rune('0'+n)) + "_tracked", MaxArgs: 1, Out: TypeBool, Where: AtRequest | AtResponse,
			Doc: "as sc_tracked(" + string(rune('0'+n)) + ")",
			Eval: func(c *Ctx, a *Args, out *Value) bool {
				_, ok := resolveSC(c, n, a.Str[0])
				out.SetBool(ok)
				return true
			}})
	}
}
