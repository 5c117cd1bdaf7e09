package httpx

import "strings"

// BadRequest is one malformed or ambiguous request and the status it must
// get. The table is exported so the engine's socket tests and the
// differential test against HAProxy replay exactly the same bytes.
type BadRequest struct {
	Name   string
	Raw    string
	Status int
}

// BadRequests is the bad-input list of RFC 9112/9110 the engine rejects
// (and closes the connection after).
var BadRequests = []BadRequest{
	{"duplicate content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
	{"conflicting content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
	{"content-length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
	{"content-length sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400},
	{"content-length hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc", 400},
	{"content-length and chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"te obfuscated value", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400},
	{"te unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", 400},
	{"te chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
	{"te chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"te quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400},
	{"te empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400},
	{"te on http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"space before colon", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n", 400},
	{"obs-fold first line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
	{"bare cr in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n", 400},
	{"bare lf in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\n2\r\n\r\n", 400},
	{"nul in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\n\r\n", 400},
	{"ctl in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x01\r\n\r\n", 400},
	{"bad header name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n", 400},
	{"empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n", 400},
	{"header without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
	{"bad method char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target with space", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target with ctl", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"http/0.9", "GET /\r\n\r\n", 400},
	{"bad version", "GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400},
	{"version 2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
	{"missing host 1.1", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400},
	{"multiple host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	{"absolute-form authority differs from host", "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", 400},
	{"absolute-form with empty host", "GET http://a.example/x HTTP/1.1\r\nHost: \r\n\r\n", 400},
	{"absolute-form authority port differs", "GET http://a.example:8080/x HTTP/1.1\r\nHost: a.example\r\n\r\n", 400},
	{"target dot-dot", "GET .. HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target dot-dot 1.0 without host", "GET .. HTTP/1.0\r\n\r\n", 400},
	{"target bare word", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target query only", "GET ?x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target authority-form for GET", "GET a.example:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target scheme without //", "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"target scheme starting with a digit", "GET 1a://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"connect origin-form", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"connect absolute-form", "CONNECT http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"connect without port", "CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", 400},
	{"connect asterisk", "CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
	{"request line too long", "GET /" + strings.Repeat("a", 16384) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
	{"headers too large", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Big: "+strings.Repeat("b", 1000)+"\r\n", 17) + "\r\n", 431},
	{"too many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-A: 1\r\n", 101) + "\r\n", 431},
}
