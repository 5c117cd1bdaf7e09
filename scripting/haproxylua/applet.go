package haproxylua

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core/sample"
)

// appletHandler serves `http-request use-service lua.NAME` through the
// engine's service path (serveHandler: the request body is already read,
// up to 1 MiB, and the answer is buffered and framed with content-length).
type appletHandler struct {
	h    *Host
	name string
}

// appletCall is the state of one service call.
type appletCall struct {
	w       http.ResponseWriter
	body    []byte
	off     int
	status  int
	reason  string
	started bool
}

func (a *appletHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := a.h.get()
	if v == nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	defer a.h.put(v)
	reg := v.services[a.name]
	if reg == nil { // a script that registers differently from state to state
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	body, _ := io.ReadAll(r.Body)
	call := &appletCall{w: w, body: body, status: 200}
	v.app = call
	// applet.f/sf and the applet's variables see this request.
	var fctx sample.Ctx
	var vars sample.Vars
	sample.RequestCtx(&fctx, newHTTPView(r))
	fctx.Vars = &vars
	v.curCtx = &fctx
	err := v.call(reg.fn, 0, v.newApplet(r, call))
	if err == nil && !call.started {
		err = errNoResponse
	}
	if err != nil {
		a.h.report("service", a.name, err)
		if !call.started {
			// Nothing was sent: HAProxy answers 500 for a service that
			// failed, or returned, before its response started.
			for k := range w.Header() {
				delete(w.Header(), k)
			}
			w.Header()["cache-control"] = []string{"no-cache"}
			w.Header()["content-type"] = []string{"text/html"}
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, page500)
			return
		}
	}
	call.start()
}

func (c *appletCall) start() {
	if c.started {
		return
	}
	c.started = true
	c.w.WriteHeader(c.status)
}

// newApplet builds the applet object of one call.
func (v *vm) newApplet(r *http.Request, call *appletCall) *lua.LTable {
	L := v.L
	t := L.NewTable()
	t.RawSetString("method", lua.LString(r.Method))
	t.RawSetString("path", lua.LString(r.URL.Path))
	if r.URL.RawPath != "" {
		t.RawSetString("path", lua.LString(r.URL.RawPath))
	}
	t.RawSetString("qs", lua.LString(r.URL.RawQuery))
	t.RawSetString("version", lua.LString(strconv.Itoa(r.ProtoMajor)+"."+strconv.Itoa(r.ProtoMinor)))
	t.RawSetString("length", lua.LNumber(len(call.body)))
	hdrs := L.NewTable()
	add := func(name, value string) {
		k := strings.ToLower(name)
		vals, _ := hdrs.RawGetString(k).(*lua.LTable)
		if vals == nil {
			vals = L.NewTable()
			hdrs.RawSetString(k, vals)
		}
		append0(vals, lua.LString(value))
	}
	if r.Host != "" {
		add("host", r.Host)
	}
	for name, vals := range r.Header {
		for _, val := range vals {
			add(name, val)
		}
	}
	t.RawSetString("headers", hdrs)
	L.SetFuncs(t, map[string]lua.LGFunction{
		"set_status": func(L *lua.LState) int {
			code := L.CheckInt(2)
			if code < 100 || code > 999 {
				L.ArgError(2, "status must be between 100 and 999")
			}
			call.status, call.reason = code, checkReason(L, 3)
			return 0
		},
		"add_header": func(L *lua.LState) int {
			// Lower-case, as HAProxy sends header names (HTX); set
			// directly so net/http does not canonicalise them.
			k := strings.ToLower(checkName(L, 2))
			call.w.Header()[k] = append(call.w.Header()[k], checkValue(L, 3))
			return 0
		},
		"start_response": func(L *lua.LState) int {
			call.start()
			return 0
		},
		"send": func(L *lua.LState) int {
			if !call.started {
				L.RaiseError("applet:send: call applet:start_response() before sending data")
			}
			io.WriteString(call.w, checkStr(L, 2))
			return 0
		},
		"receive": func(L *lua.LState) int {
			rest := call.body[call.off:]
			if n := L.OptInt(2, -1); n >= 0 && n < len(rest) {
				rest = rest[:n]
			}
			call.off += len(rest)
			L.Push(lua.LString(rest))
			return 1
		},
		"getline": func(L *lua.LState) int {
			rest := call.body[call.off:]
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				rest = rest[:i+1]
			}
			call.off += len(rest)
			L.Push(lua.LString(rest))
			return 1
		},
		"set_var":   v.setVar,
		"get_var":   v.getVar,
		"unset_var": v.unsetVar,
		"set_priv":  v.setPriv,
		"get_priv":  v.getPriv,
	})
	t.RawSetString("f", v.txn.RawGetString("f"))
	t.RawSetString("sf", v.txn.RawGetString("sf"))
	strictTable(L, t, "applet:")
	return t
}

// page500 is HAProxy's 500 page, which it sends for a failed service.
const page500 = "<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n"

var errNoResponse = errors.New("the service returned without applet:start_response()")
