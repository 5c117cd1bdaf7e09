package sample

// Backend state fetches (§7.3.2): nbsrv.

// BackendStater is implemented by the request views of an engine that can
// tell the running backends' state (core/proxy's view does).
type BackendStater interface {
	// UsableServers is HAProxy's be_usable_srv for the backend named
	// name: its usable active servers, else 1 when a backup would be
	// used (the first backup), else its usable backups with `option
	// allbackups`; ok is false when no backend has that name.
	UsableServers(name string) (n int, ok bool)
}

func init() {
	RegisterFetch(&Fetch{Name: "nbsrv", MaxArgs: 1, Where: AtAny, Out: TypeInt,
		Doc: "the number of usable servers of the backend named by the argument (default: the request's backend), as HAProxy's be_usable_srv: active servers, else 1 for the first backup, else the backups with option allbackups",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			bs, ok := c.Req.(BackendStater)
			if !ok {
				return false
			}
			name := c.Backend
			if a.N > 0 && a.Str[0] != "" {
				name = a.Str[0]
			}
			n, ok := bs.UsableServers(name)
			out.SetInt(int64(n))
			return ok
		}})
}
