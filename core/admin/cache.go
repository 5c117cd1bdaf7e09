package admin

// OpShowCache is `show cache` (HAProxy 2.6, admin level): the caches'
// available blocks and fresh entries, printed by the engine
// (core/proxy/cache_show.go).
const OpShowCache Op = 900

// runShowCache executes OpShowCache; ok is false for other commands.
func (s *Server) runShowCache(cmd Command) (string, bool) {
	if cmd.Op != OpShowCache {
		return "", false
	}
	if s.rt.Engine == nil {
		return "", true
	}
	return s.rt.Engine.ShowCache(), true
}
