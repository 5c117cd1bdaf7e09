package sample

// The cache's fetches (HAProxy 2.6 src/cache.c): whether the response
// being processed came from a cache, and which one (core/proxy/cache.go
// fills Ctx.CacheName).

func init() {
	RegisterFetch(&Fetch{Name: "res.cache_hit", Where: AtResponse, Out: TypeBool,
		Doc: "true when the response comes from a cache (`http-request cache-use`), false otherwise",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			out.SetBool(c.CacheName != "")
			return true
		}})
	RegisterFetch(&Fetch{Name: "res.cache_name", Where: AtResponse, Out: TypeStr,
		Doc: "the name of the cache the response comes from; no sample when it comes from a server",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			out.SetStr(stringBytes(c.CacheName))
			return c.CacheName != ""
		}})
}
