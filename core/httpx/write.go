package httpx

import "strconv"

// IsHopByHop reports whether a header belongs to one connection only and is
// never forwarded (RFC 9110 7.6.1), beside those named in Connection.
// Transfer-Encoding is not in the list: the engine forwards chunked bodies
// verbatim, so the coding is end-to-end as far as the next hop sees it.
func IsHopByHop(name []byte) bool {
	switch len(name) {
	case 2:
		return EqualFold(name, "te")
	case 7:
		return EqualFold(name, "trailer") || EqualFold(name, "upgrade")
	case 10:
		return EqualFold(name, "connection") || EqualFold(name, "keep-alive")
	case 16:
		return EqualFold(name, "proxy-connection")
	}
	return false
}

// Forwardable reports whether field i of h may be copied to the next hop:
// it is neither hop-by-hop nor named in Connection. keepUpgrade keeps the
// Upgrade header for a protocol switch.
func (h *Head) Forwardable(i int, keepUpgrade bool) bool {
	name := h.Fields[i].Name.Of(h.Buf)
	if IsHopByHop(name) {
		return keepUpgrade && EqualFold(name, "upgrade")
	}
	return h.nConn == 0 || !h.ListedInConnection(name)
}

// AppendField appends "name: value\r\n".
func AppendField(dst, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

// AppendFieldString is AppendField for string name and value.
func AppendFieldString(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

// AppendStatusLine appends "HTTP/1.1 code reason\r\n".
func AppendStatusLine(dst []byte, code int, reason string) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	return append(dst, '\r', '\n')
}

// StatusText is the reason phrase HAProxy uses for the statuses it
// generates itself.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Time-out"
	case 410:
		return "Gone"
	case 413:
		return "Payload Too Large"
	case 414:
		return "URI Too Long"
	case 421:
		return "Misdirected Request"
	case 425:
		return "Too Early"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Time-out"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
}

// errorText is the sentence of HAProxy's built-in error pages.
func errorText(code int) string {
	switch code {
	case 200:
		return "Service ready."
	case 400:
		return "Your browser sent an invalid request."
	case 401, 407:
		return "You need a valid user and password to access this content."
	case 403:
		return "Request forbidden by administrative rules."
	case 404:
		return "The resource could not be found."
	case 405:
		return "A request was made of a resource using a request method not supported by that resource"
	case 408:
		return "Your browser didn't send a complete request in time."
	case 410:
		return "The resource is no longer available and will not be available again."
	case 413:
		return "The request entity exceeds the maximum allowed."
	case 414:
		return "The request URI is too long."
	case 421:
		return "Request sent to a non-authoritative server."
	case 425:
		return "Your browser sent early data."
	case 429:
		return "You have sent too many requests in a given amount of time."
	case 431:
		return "The request header fields are too large."
	case 500:
		return "An internal server error occurred."
	case 501:
		return ".The server does not support the functionality required to fulfill the request."
	case 502:
		return "The server returned an invalid or incomplete response."
	case 503:
		return "No server is available to handle this request."
	case 504:
		return "The server didn't respond in time."
	case 505:
		return "The HTTP version is not supported."
	}
	return "An error occurred."
}

// ErrorPage builds HAProxy's default page for code: the same body bytes,
// `cache-control: no-cache`, `content-type: text/html` and
// `connection: close`. It allocates; the engine builds each page once.
func ErrorPage(code int) []byte {
	body := "<html><body><h1>" + strconv.Itoa(code) + " " + StatusText(code) + "</h1>\n" + errorText(code) + "\n</body></html>\n"
	b := AppendStatusLine(nil, code, StatusText(code))
	b = AppendFieldString(b, "content-length", strconv.Itoa(len(body)))
	b = AppendFieldString(b, "cache-control", "no-cache")
	b = AppendFieldString(b, "content-type", "text/html")
	b = AppendFieldString(b, "connection", "close")
	b = append(b, '\r', '\n')
	return append(b, body...)
}
