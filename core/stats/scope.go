package stats

// inScope reports whether proxy is one of the `stats scope` names the
// page was configured with (HAProxy's uri_auth scope list). No list
// means every proxy. The config side resolves "." to the declaring
// proxy's own name before the list reaches the handler.
func (h *Handler) inScope(proxy string) bool {
	if len(h.cfg.Scope) == 0 {
		return true
	}
	for _, name := range h.cfg.Scope {
		if name == proxy {
			return true
		}
	}
	return false
}

// scopeRows drops the rows of proxies outside `stats scope`: HAProxy
// dumps nothing at all for them (no FRONTEND, server, BACKEND or listener
// line) on the page, in ;csv and in ;json.
func (h *Handler) scopeRows(rows []Row) []Row {
	if len(h.cfg.Scope) == 0 {
		return rows
	}
	out := rows[:0:0]
	for _, r := range rows {
		if h.inScope(r.Proxy) {
			out = append(out, r)
		}
	}
	return out
}
