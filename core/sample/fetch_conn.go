package sample

// Connection and internal-state fetches (§7.3.2, §7.3.3).

func init() {
	addr := func(name, doc string, get func(c *Ctx) (Value, bool)) {
		RegisterFetch(&Fetch{Name: name, Where: AtAny, Doc: doc, Out: TypeAddr,
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				v, ok := get(c)
				*out = v
				return ok
			}})
	}
	addr("src", "the client's address (after the PROXY protocol)", func(c *Ctx) (v Value, ok bool) {
		v.SetAddr(c.Src.Addr())
		return v, c.Src.IsValid()
	})
	addr("dst", "the local address the client connected to", func(c *Ctx) (v Value, ok bool) {
		v.SetAddr(c.Dst.Addr())
		return v, c.Dst.IsValid()
	})
	integer := func(name, doc string, where Stage, get func(c *Ctx) (int64, bool)) {
		RegisterFetch(&Fetch{Name: name, Where: where, Doc: doc, Out: TypeInt,
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				n, ok := get(c)
				out.SetInt(n)
				return ok
			}})
	}
	integer("src_port", "the client's port", AtAny, func(c *Ctx) (int64, bool) { return int64(c.Src.Port()), c.Src.IsValid() })
	integer("dst_port", "the local port the client connected to", AtAny, func(c *Ctx) (int64, bool) { return int64(c.Dst.Port()), c.Dst.IsValid() })
	integer("status", "the response status code", AtResponse|AtLog, func(c *Ctx) (int64, bool) { return int64(c.Status), c.Status > 0 })
	integer("srv_id", "the id of the server that served the request (its position in the backend, from 1)", AtResponse|AtLog,
		func(c *Ctx) (int64, bool) { return int64(c.ServerID), c.ServerID > 0 })
	str := func(name, doc string, where Stage, get func(c *Ctx) string) {
		RegisterFetch(&Fetch{Name: name, Where: where, Doc: doc, Out: TypeStr,
			Eval: func(c *Ctx, _ *Args, out *Value) bool {
				s := get(c)
				out.SetStr(stringBytes(s))
				return s != ""
			}})
	}
	str("fe_name", "the frontend's name", AtAny, func(c *Ctx) string { return c.Frontend })
	// HAProxy refuses be_name where no backend can be known (a frontend's
	// http-request rules) and has none for a request that never reached
	// one (a bad request): no sample then.
	str("be_name", "the backend's name; no sample before a backend is chosen", AtAny, func(c *Ctx) string { return c.Backend })
	str("srv_name", "the name of the server that served the request", AtResponse|AtLog, func(c *Ctx) string { return c.Server })
	str("policy.verdict", "what the transaction's last policy call decided: the backend or server it chose, `declined` (nil), or `fallback:REASON` (error, timeout, memory, type, unknown, unusable, panic); no sample when no policy ran (varde-only)", AtResponse|AtLog,
		func(c *Ctx) string { return c.PolicyVerdict })
	boolean := func(name, doc string, get func(c *Ctx) bool) {
		RegisterFetch(&Fetch{Name: name, Where: AtAny, Doc: doc, Out: TypeBool,
			Eval: func(c *Ctx, _ *Args, out *Value) bool { out.SetBool(get(c)); return true }})
	}
	boolean("ssl_fc", "true when the client connection is TLS (a `bind ... ssl` line)", func(c *Ctx) bool { return c.TLS })
	boolean("always_true", "true", func(*Ctx) bool { return true })
	boolean("always_false", "false", func(*Ctx) bool { return false })
	capture := func(name, doc string, where Stage, get func(c *Ctx) Captures) {
		RegisterFetch(&Fetch{Name: name, MinArgs: 1, MaxArgs: 1, Where: where, Doc: doc, Out: TypeStr,
			Compile: compileIndex,
			Eval: func(c *Ctx, a *Args, out *Value) bool {
				cp := get(c)
				if cp == nil || int(a.Int[0]) >= cp.Len() {
					return false
				}
				out.SetStr(cp.At(int(a.Int[0])))
				return true
			}})
	}
	capture("capture.req.hdr", "the value captured by the N-th `capture request header` (from 0)", AtAny, func(c *Ctx) Captures { return c.ReqCaptures })
	capture("capture.res.hdr", "the value captured by the N-th `capture response header` (from 0)", AtResponse|AtLog, func(c *Ctx) Captures { return c.ResCaptures })
}

func compileIndex(args []string, a *Args) error {
	n, ok := parseInt([]byte(args[0]))
	if !ok || n < 0 {
		return errorf("", "index %q: want an integer from 0", args[0])
	}
	a.Int[0] = n
	return nil
}
