package haproxylua

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/varde-lb/varde/core"
)

// httpView is the core.Request of a service call (applet.f, applet.sf),
// built from the request the engine's service path hands over.
type httpView struct {
	r   *http.Request
	src netip.AddrPort
	hdr [][2]string
}

func newHTTPView(r *http.Request) *httpView {
	v := &httpView{r: r}
	v.src, _ = netip.ParseAddrPort(r.RemoteAddr)
	if r.Host != "" {
		v.hdr = append(v.hdr, [2]string{"host", r.Host})
	}
	for k, vals := range r.Header {
		for _, val := range vals {
			v.hdr = append(v.hdr, [2]string{strings.ToLower(k), val})
		}
	}
	return v
}

var _ core.Request = (*httpView)(nil)

func (v *httpView) Method() []byte { return []byte(v.r.Method) }
func (v *httpView) URI() []byte    { return []byte(v.r.RequestURI) }
func (v *httpView) Path() []byte   { return []byte(v.r.URL.EscapedPath()) }
func (v *httpView) Query() []byte  { return []byte(v.r.URL.RawQuery) }
func (v *httpView) Header(name string) ([]byte, bool) {
	for _, h := range v.hdr {
		if strings.EqualFold(h[0], name) {
			return []byte(h[1]), true
		}
	}
	return nil, false
}
func (v *httpView) NumHeaders() int { return len(v.hdr) }
func (v *httpView) HeaderAt(i int) (name, value []byte) {
	return []byte(v.hdr[i][0]), []byte(v.hdr[i][1])
}
func (v *httpView) Src() netip.AddrPort { return v.src }
func (v *httpView) Dst() netip.AddrPort { return netip.AddrPort{} }
func (v *httpView) TLS() bool           { return false }

// serviceFetches are the fetches a service (applet.f, applet.sf) can call:
// the connection's and the constants, as in HAProxy, whose HTTP fetches
// need a parser services do not have.
var serviceFetches = map[string]bool{
	"src": true, "src_port": true, "dst": true, "dst_port": true, "ssl_fc": true,
	"fe_name": true, "be_name": true, "always_true": true, "always_false": true,
	"str": true, "int": true, "bool": true, "ipv4": true, "ipv6": true, "bin": true, "var": true,
}
