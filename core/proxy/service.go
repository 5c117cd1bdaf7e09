package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/varde-lb/varde/core/httpx"
	"github.com/varde-lb/varde/core/logrec"
)

// httpHandler is what a service (stats page, Prometheus exporter) provides.
// Services are off the fast path, so net/http's types are fine here.
type httpHandler = http.Handler

// maxServiceBody bounds a request body read for a service (stats admin
// forms are small).
const maxServiceBody = 1 << 20

// serveHandler answers the current request with h.
func (s *session) serveHandler(h http.Handler, start time.Time) bool {
	r := &s.req
	hreq, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(s.in[:r.HeadLen])))
	if err != nil {
		s.rec.SetTerm(logrec.TermProxy, logrec.StateRequest)
		s.sendError(400, nil)
		s.log(nil, nil)
		return false
	}
	consumed := r.HeadLen
	if r.RequestBody() == httpx.BodyLength {
		if r.ContentLength > maxServiceBody {
			s.sendError(413, nil)
			s.log(nil, nil)
			return false
		}
		body := make([]byte, r.ContentLength)
		have := copy(body, s.in[r.HeadLen:s.n])
		consumed += have
		if have < len(body) {
			s.conn.SetReadDeadline(after(s.clientTimeout(0)))
			if _, err := io.ReadFull(s.conn, body[have:]); err != nil {
				s.rec.SetTerm(logrec.TermClientAbort, logrec.StateData)
				s.log(nil, nil)
				return false
			}
		}
		hreq.Body = io.NopCloser(bytes.NewReader(body))
	} else if r.RequestBody() == httpx.BodyChunked {
		s.sendError(411, nil)
		s.log(nil, nil)
		return false
	}
	hreq.RemoteAddr = s.src.String()
	w := &recorder{h: http.Header{}}
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.e.Panics.Add(1)
				s.e.log.Error("panic in service handler", "frontend", s.f.Name, "panic", p)
				w.code, w.h = 500, http.Header{}
				w.body.Reset()
			}
		}()
		h.ServeHTTP(w, hreq)
	}()
	if w.code == 0 {
		w.code = 200
	}
	keep := !s.closeAfter && !s.e.stopping.Load()
	var b bytes.Buffer
	b.Write(httpx.AppendStatusLine(nil, w.code, http.StatusText(w.code)))
	w.h.Del("Content-Length")
	w.h.Del("Connection")
	w.h.Write(&b)
	b.WriteString("content-length: " + strconv.Itoa(w.body.Len()) + "\r\n")
	if !keep {
		b.WriteString("connection: close\r\n")
	}
	b.WriteString("\r\n")
	if hreq.Method != http.MethodHead {
		b.Write(w.body.Bytes())
	}
	n, sent, err := s.writeLocal(b.Bytes(), w.code, nil) // afterresp.go
	s.rec.BytesOut += countHTX(n, sent)                  // %B as HAProxy counts it

	s.rec.BytesIn = int64(consumed)
	s.f.Meters.Applet.Store(time.Now().UnixNano()) // a listen's BACKEND lastsess, as HAProxy's applets
	s.rec.SetTerm(logrec.TermLocal, logrec.StateRequest)
	s.consume(consumed)
	s.log(nil, nil)
	return keep && err == nil
}

// recorder is a minimal http.ResponseWriter that buffers the answer.
type recorder struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *recorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return w.body.Write(p)
}
