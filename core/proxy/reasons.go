package proxy

// replyReasons are the reason phrases HAProxy 2.6 writes for a status it
// sends from a return/deny rule or sets with set-status without `reason`
// (its http_get_reason table, measured with /usr/sbin/haproxy 2.6 for
// every status 200..599). Statuses not listed take their class's phrase
// (replyReason). The built-in error pages keep httpx.StatusText, whose
// phrases differ for a few codes (e.g. 302, 413).
var replyReasons = map[int]string{
	100: "Continue",
	101: "Switching Protocols",
	102: "Processing",
	200: "OK",
	201: "Created",
	202: "Accepted",
	203: "Non-Authoritative Information",
	204: "No Content",
	205: "Reset Content",
	206: "Partial Content",
	207: "Multi-Status",
	210: "Content Different",
	226: "IM Used",
	300: "Multiple Choices",
	301: "Moved Permanently",
	302: "Moved Temporarily",
	303: "See Other",
	304: "Not Modified",
	305: "Use Proxy",
	307: "Temporary Redirect",
	308: "Permanent Redirect",
	310: "Too many Redirects",
	400: "Bad Request",
	401: "Unauthorized",
	402: "Payment Required",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	406: "Not Acceptable",
	407: "Proxy Authentication Required",
	408: "Request Time-out",
	409: "Conflict",
	410: "Gone",
	411: "Length Required",
	412: "Precondition Failed",
	413: "Request Entity Too Large",
	414: "Request-URI Too Long",
	415: "Unsupported Media Type",
	416: "Requested range unsatisfiable",
	417: "Expectation failed",
	418: "I'm a teapot",
	421: "Misdirected Request",
	422: "Unprocessable Content",
	423: "Locked",
	424: "Method failure",
	425: "Too Early",
	426: "Upgrade Required",
	428: "Precondition Required",
	429: "Too Many Requests",
	431: "Request Header Fields Too Large",
	449: "Retry With",
	450: "Blocked by Windows Parental Controls",
	451: "Unavailable For Legal Reasons",
	456: "Unrecoverable Error",
	499: "client has closed connection",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway or Proxy Error",
	503: "Service Unavailable",
	504: "Gateway Time-out",
	505: "HTTP Version not supported",
	506: "Variant also negotiate",
	507: "Insufficient storage",
	508: "Loop detected",
	509: "Bandwidth Limit Exceeded",
	510: "Not extended",
	511: "Network authentication required",
	520: "Web server is returning an unknown error",
}

// replyReason is HAProxy's reason phrase for code.
func replyReason(code int) string {
	if r, ok := replyReasons[code]; ok {
		return r
	}
	switch code / 100 {
	case 1:
		return "Informational"
	case 2:
		return "Success"
	case 3:
		return "Redirection"
	case 4:
		return "Client Error"
	case 5:
		return "Server Error"
	}
	return "Other"
}
