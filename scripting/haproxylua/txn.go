package haproxylua

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/scripting/luacompat"
)

// maxCached bounds a state's compiled txn.f/txn.c calls (one per distinct
// name and arguments).
const maxCached = 1024

// errDone is raised by txn:done() to end the script at once, as HAProxy
// does; the caller recognises it and answers with the reply, if any.
const errDone = "\x00varde:txn:done"

// newTxnObject builds the state's txn object once; its methods act on the
// call in progress (v.cur), so a call costs no new tables.
func (v *vm) newTxnObject() *lua.LTable {
	L := v.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"set_var":   v.setVar,
		"get_var":   v.getVar,
		"unset_var": v.unsetVar,
		"set_priv":  v.setPriv,
		"get_priv":  v.getPriv,
		"reply":     v.newReply,
		"done":      v.done,
		"Debug":     v.txnLog("debug"),
		"Info":      v.txnLog("info"),
		"Warning":   v.txnLog("warning"),
		"Alert":     v.txnLog("alert"),
		"log": func(L *lua.LState) int {
			v.coreLog(shiftSelf(L))
			return 0
		},
	})
	t.RawSetString("f", v.fetchObject(false))
	t.RawSetString("sf", v.fetchObject(true))
	t.RawSetString("c", v.convObject(false))
	t.RawSetString("sc", v.convObject(true))
	t.RawSetString("http", v.httpObject())
	strictTable(L, t, "txn.")
	return t
}

// shiftSelf drops the self argument of a method so a core function can
// serve it.
func shiftSelf(L *lua.LState) *lua.LState {
	L.Remove(1)
	return L
}

func (v *vm) txnLog(level string) lua.LGFunction {
	return func(L *lua.LState) int {
		v.h.scriptLog(level, luaString(L.Get(2)))
		return 0
	}
}

func (v *vm) vars() *sample.Vars {
	if v.cur != nil {
		return v.cur.Vars()
	}
	if v.curCtx != nil {
		return v.curCtx.Vars
	}
	return nil
}

func (v *vm) setVar(L *lua.LState) int {
	name := L.CheckString(2)
	if !sample.ValidVarName(name) {
		L.ArgError(2, "variable name must be txn.NAME, req.NAME, res.NAME, sess.NAME or proc.NAME")
	}
	vs := v.vars()
	if vs == nil && !sample.IsProcVar(name) {
		return 0
	}
	if L.OptBool(4, false) {
		vs.SetIfExists(name, toSample(L.Get(3))) // exists, set or not, as HAProxy's ifexist
		return 0
	}
	vs.Set(name, toSample(L.Get(3)))
	return 0
}

func (v *vm) getVar(L *lua.LState) int {
	name := L.CheckString(2)
	val, ok := v.vars().Get(name)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(luacompat.FromSample(&val))
	return 1
}

func (v *vm) unsetVar(L *lua.LState) int {
	v.vars().Unset(L.CheckString(2))
	return 0
}

func (v *vm) setPriv(L *lua.LState) int {
	if v.cur != nil {
		*v.cur.Priv() = L.Get(2)
	}
	return 0
}

func (v *vm) getPriv(L *lua.LState) int {
	if v.cur != nil {
		if p, ok := (*v.cur.Priv()).(lua.LValue); ok {
			L.Push(p)
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

// toSample converts a Lua value given to HAProxy: whole numbers become
// integers, other numbers their text, as HAProxy's Lua 5.3 integers.
func toSample(lv lua.LValue) sample.Value {
	var s sample.Value
	switch x := lv.(type) {
	case lua.LBool:
		s.SetBool(bool(x))
	case lua.LNumber:
		if f := float64(x); f == float64(int64(f)) {
			s.SetInt(int64(f))
		} else {
			s.SetStr([]byte(luaString(x)))
		}
	default:
		s.SetStr([]byte(luaString(lv)))
	}
	return s
}

// fetchObject is txn.f (strs false: native types, nil when absent) or
// txn.sf (strings, "" when absent): txn.f:req_hdr("host") evaluates the
// sample fetch req.hdr(host), HAProxy's names with '.' written '_'.
func (v *vm) fetchObject(strs bool) *lua.LTable {
	L := v.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		lname := L.CheckString(2)
		fname, ok := fetchName(lname)
		if !ok {
			L.RaiseError("txn.f:%s: fetch not supported by varde", lname)
		}
		fn := L.NewFunction(func(L *lua.LState) int {
			return v.evalFetch(L, fname, strs)
		})
		t.RawSetString(lname, fn) // cached in the state
		L.Push(fn)
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}

// fetchName maps a Lua fetch name (req_hdr) to varde's (req.hdr).
func fetchName(lname string) (string, bool) {
	if _, ok := sample.LookupFetch(lname); ok {
		return lname, true
	}
	n, ok := luaFetchNames[lname]
	return n, ok
}

var luaFetchNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range sample.FetchNames() {
		if strings.Contains(n, ".") {
			m[strings.ReplaceAll(n, ".", "_")] = n
		}
	}
	return m
}()

func (v *vm) evalFetch(L *lua.LState, fname string, strs bool) int {
	var key strings.Builder
	key.WriteString(fname)
	if n := L.GetTop(); n > 1 {
		key.WriteByte('(')
		for i := 2; i <= n; i++ {
			if i > 2 {
				key.WriteByte(',')
			}
			key.WriteString(strconv.Quote(luaString(L.Get(i))))
		}
		key.WriteByte(')')
	}
	e, ok := v.exprs[key.String()]
	if !ok {
		var err error
		e, err = sample.Parse(key.String(), sample.Options{})
		if err != nil {
			L.RaiseError("txn.f:%s: %v", fname, err)
		}
		if len(v.exprs) >= maxCached {
			clear(v.exprs) // arguments that vary per request: bound the cache
		}
		v.exprs[key.String()] = e
	}
	if v.app != nil && !serviceFetches[fname] {
		// As HAProxy: a service has no HTTP parser for fetches.
		L.RaiseError("the sample-fetch '%s' needs an HTTP parser which is not available in Lua services", fname)
	}
	c := &v.ctx
	switch {
	case v.cur != nil:
		v.cur.EvalCtx(c)
	case v.curCtx != nil:
		*c = *v.curCtx
	default:
		L.Push(absent(strs))
		return 1
	}
	val, scratch, ok := e.Eval(c, v.scratch[:0])
	v.scratch = scratch
	out := sampleResult(ok, strs, &val)
	c.Reset()
	L.Push(out)
	return 1
}

func absent(strs bool) lua.LValue {
	if strs {
		return lua.LString("")
	}
	return lua.LNil
}

// httpObject is txn.http.
func (v *vm) httpObject() *lua.LTable {
	L := v.L
	t := L.NewTable()
	mut := func(resp bool, fn func(tx proxy.ScriptTxn, L *lua.LState)) lua.LGFunction {
		return func(L *lua.LState) int {
			tx := v.cur
			if tx == nil {
				L.RaiseError("txn.http cannot change messages in a sample fetch or converter")
			}
			if tx.InResponse() != resp {
				if resp {
					L.RaiseError("txn.http:res_* is only available in http-response actions")
				}
				L.RaiseError("txn.http:req_* is only available in http-request actions")
			}
			fn(tx, L)
			return 0
		}
	}
	L.SetFuncs(t, map[string]lua.LGFunction{
		"req_get_headers": v.getHeaders(false),
		"res_get_headers": v.getHeaders(true),
		"req_set_header":  mut(false, func(tx proxy.ScriptTxn, L *lua.LState) { tx.SetHeader(checkName(L, 2), checkValue(L, 3)) }),
		"req_add_header":  mut(false, func(tx proxy.ScriptTxn, L *lua.LState) { tx.AddHeader(checkName(L, 2), checkValue(L, 3)) }),
		"req_del_header":  mut(false, func(tx proxy.ScriptTxn, L *lua.LState) { tx.DelHeader(checkName(L, 2)) }),
		"res_set_header":  mut(true, func(tx proxy.ScriptTxn, L *lua.LState) { tx.SetHeader(checkName(L, 2), checkValue(L, 3)) }),
		"res_add_header":  mut(true, func(tx proxy.ScriptTxn, L *lua.LState) { tx.AddHeader(checkName(L, 2), checkValue(L, 3)) }),
		"res_del_header":  mut(true, func(tx proxy.ScriptTxn, L *lua.LState) { tx.DelHeader(checkName(L, 2)) }),
		"req_set_method":  mut(false, func(tx proxy.ScriptTxn, L *lua.LState) { tx.SetMethod(checkToken(L, 2)) }),
		"req_set_uri":     mut(false, func(tx proxy.ScriptTxn, L *lua.LState) { tx.SetTarget(checkTarget(L, 2)) }),
		"req_set_path": mut(false, func(tx proxy.ScriptTxn, L *lua.LState) {
			p := checkTarget(L, 2)
			if q := tx.Request().Query(); q != nil || strings.IndexByte(string(tx.Request().URI()), '?') >= 0 {
				p += "?" + string(q)
			}
			tx.SetTarget(p)
		}),
		"req_set_query": mut(false, func(tx proxy.ScriptTxn, L *lua.LState) {
			q := strings.TrimPrefix(checkTarget(L, 2), "?")
			tx.SetTarget(string(tx.Request().Path()) + "?" + q)
		}),
		"res_set_status": mut(true, func(tx proxy.ScriptTxn, L *lua.LState) {
			code := L.CheckInt(2)
			if code < 100 || code > 999 {
				L.ArgError(2, "status must be between 100 and 999")
			}
			tx.SetStatus(code, checkReason(L, 3))
		}),
	})
	strictTable(L, t, "txn.http:")
	return t
}

// checkToken and checkTarget refuse what would break the request line.
func checkToken(L *lua.LState, n int) string {
	s := L.CheckString(n)
	if !validToken(s) {
		L.ArgError(n, "invalid method")
	}
	return s
}

func checkTarget(L *lua.LState, n int) string {
	s := luaString(L.CheckAny(n))
	if strings.ContainsAny(s, " \t\r\n\x00") {
		L.ArgError(n, "invalid URI: spaces and control characters are not allowed")
	}
	return s
}

// getHeaders is txn.http:req_get_headers() / res_get_headers(): a table
// of lower-case names, each a 0-based array of values, as HAProxy's.
func (v *vm) getHeaders(resp bool) lua.LGFunction {
	return func(L *lua.LState) int {
		t := L.NewTable()
		add := func(name, value []byte) {
			k := strings.ToLower(string(name))
			vals, _ := t.RawGetString(k).(*lua.LTable)
			if vals == nil {
				vals = L.NewTable()
				t.RawSetString(k, vals)
			}
			append0(vals, lua.LString(value))
		}
		switch {
		case v.cur != nil && v.cur.InResponse() == resp:
			v.cur.Headers(add)
		case v.cur != nil && !resp:
			walkRequest(v.cur.Request(), add)
		case v.curCtx != nil && !resp:
			walkRequest(v.curCtx.Req, add)
		case v.curCtx != nil && resp && v.curCtx.Res != nil:
			for i := 0; i < v.curCtx.Res.NumHeaders(); i++ {
				add(v.curCtx.Res.HeaderAt(i))
			}
		}
		L.Push(t)
		return 1
	}
}

func walkRequest(r core.Request, fn func(name, value []byte)) {
	if r == nil {
		return
	}
	for i := 0; i < r.NumHeaders(); i++ {
		fn(r.HeaderAt(i))
	}
}

// newReply is txn:reply([tbl]): a reply object for txn:done.
func (v *vm) newReply(L *lua.LState) int {
	r := L.NewTable()
	r.RawSetString("status", lua.LNumber(200))
	r.RawSetString("reason", lua.LString(""))
	r.RawSetString("headers", L.NewTable())
	r.RawSetString("body", lua.LString(""))
	if init, ok := L.Get(2).(*lua.LTable); ok {
		init.ForEach(func(k, val lua.LValue) { r.RawSet(k, val) })
	}
	L.SetFuncs(r, map[string]lua.LGFunction{
		"set_status": func(L *lua.LState) int {
			self := L.CheckTable(1)
			self.RawSetString("status", lua.LNumber(L.CheckInt(2)))
			self.RawSetString("reason", lua.LString(checkReason(L, 3)))
			return 0
		},
		"add_header": func(L *lua.LState) int {
			self := L.CheckTable(1)
			hs, _ := self.RawGetString("headers").(*lua.LTable)
			if hs == nil {
				hs = L.NewTable()
				self.RawSetString("headers", hs)
			}
			name := strings.ToLower(checkName(L, 2))
			vals, _ := hs.RawGetString(name).(*lua.LTable)
			if vals == nil {
				vals = L.NewTable()
				hs.RawSetString(name, vals)
			}
			vals.Append(lua.LString(checkValue(L, 3)))
			return 0
		},
		"del_header": func(L *lua.LState) int {
			self := L.CheckTable(1)
			if hs, ok := self.RawGetString("headers").(*lua.LTable); ok {
				hs.RawSetString(strings.ToLower(L.CheckString(2)), lua.LNil)
			}
			return 0
		},
		"set_body": func(L *lua.LState) int {
			L.CheckTable(1).RawSetString("body", lua.LString(luaString(L.Get(2))))
			return 0
		},
	})
	L.Push(r)
	return 1
}

// done is txn:done([reply]): answer with the reply (request actions) and
// end the script.
func (v *vm) done(L *lua.LState) int {
	if v.cur == nil {
		L.RaiseError("txn:done is only available in actions")
	}
	r, ok := L.Get(2).(*lua.LTable)
	if !ok {
		v.cur.Close()
	} else {
		status := 200
		if n, ok := r.RawGetString("status").(lua.LNumber); ok {
			status = int(n)
		}
		var hdrs []string
		if hs, ok := r.RawGetString("headers").(*lua.LTable); ok {
			hs.ForEach(func(k, val lua.LValue) {
				if vals, ok := val.(*lua.LTable); ok {
					vals.ForEach(func(_, x lua.LValue) { hdrs = append(hdrs, luaString(k), luaString(x)) })
				} else {
					hdrs = append(hdrs, luaString(k), luaString(val))
				}
			})
		}
		reason := luaString(r.RawGetString("reason"))
		// The reply's fields can be set directly: check what goes on the
		// wire as add_header and set_status do.
		if !validReason(reason) {
			L.RaiseError("txn:done: invalid reason %q", reason)
		}
		for i := 0; i+1 < len(hdrs); i += 2 {
			if !validToken(hdrs[i]) || !validValue(hdrs[i+1]) {
				L.RaiseError("txn:done: invalid header %q", hdrs[i])
			}
		}
		v.cur.Reply(status, reason, hdrs, []byte(luaString(r.RawGetString("body"))))
	}
	v.isDone = true
	L.RaiseError("%s", errDone)
	return 0
}

// append0 appends to a 0-based array (HAProxy's header tables). Reading
// goes through RawGet: gopher-lua's RawGetInt ignores index 0.
func append0(t *lua.LTable, v lua.LValue) {
	n := 0
	for t.RawGet(lua.LNumber(n)) != lua.LNil {
		n++
	}
	t.RawSetInt(n, v)
}

// checkStr is luaL_checkstring: a string or a number (whole numbers as
// integers); nil or a table is an error, as in HAProxy.
func checkStr(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return numString(float64(v))
	}
	L.TypeError(n, lua.LTString)
	return ""
}

// checkName, checkValue and checkReason keep what a script puts on the
// wire well-formed: a CR or LF in a header or a reason phrase would let a
// script split the message (HAProxy's HTX refuses them too).
func checkName(L *lua.LState, n int) string {
	s := L.CheckString(n)
	if !validToken(s) {
		L.ArgError(n, "invalid header name")
	}
	return s
}

func checkValue(L *lua.LState, n int) string {
	s := checkStr(L, n)
	if !validValue(s) {
		L.ArgError(n, "header value with CR, LF or NUL")
	}
	return s
}

func checkReason(L *lua.LState, n int) string {
	s := L.OptString(n, "")
	if !validReason(s) {
		L.ArgError(n, "reason with CR, LF or NUL")
	}
	return s
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func validValue(s string) bool { return !strings.ContainsAny(s, "\r\n\x00") }

func validReason(s string) bool { return validValue(s) }
