package luacompat

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The string functions that take a pattern, over the bounded matcher
// (pattern.go), with Lua 5.3's behaviour: gmatch and gsub skip an empty
// match right after the previous match (5.1 would report it).

const specials = "^$*+?.([%-"

// posrelat is Lua's relative string position: negative counts from the end.
func posrelat(pos, n int) int {
	switch {
	case pos >= 0:
		return pos
	case -pos > n:
		return 0
	}
	return n + pos + 1
}

func pushCaptures(L *lua.LState, caps []any) int {
	for _, c := range caps {
		switch v := c.(type) {
		case string:
			L.Push(lua.LString(v))
		case int:
			L.Push(lua.LNumber(v))
		}
	}
	return len(caps)
}

// patternCall runs f with a fresh matcher, raising the matcher's errors
// as Lua errors.
func patternCall(L *lua.LState, src, pat string, steps int, f func(m *matcher)) {
	m := &matcher{src: src, pat: pat, steps: steps}
	if err := runPattern(func() { f(m) }); err != nil {
		L.RaiseError("%s", err.Error())
	}
}

func strFind(steps int, find bool) lua.LGFunction {
	return func(L *lua.LState) int {
		src := L.CheckString(1)
		pat := L.CheckString(2)
		init := posrelat(L.OptInt(3, 1), len(src))
		if init < 1 {
			init = 1
		}
		if init > len(src)+1 {
			L.Push(lua.LNil)
			return 1
		}
		if find && (L.ToBool(4) || !strings.ContainsAny(pat, specials)) {
			i := strings.Index(src[init-1:], pat)
			if i < 0 {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(lua.LNumber(init + i))
			L.Push(lua.LNumber(init + i + len(pat) - 1))
			return 2
		}
		anchor := len(pat) > 0 && pat[0] == '^'
		p := 0
		if anchor {
			p = 1
		}
		var n int
		found := false
		patternCall(L, src, pat, steps, func(m *matcher) {
			for s := init - 1; ; s++ {
				m.level, m.depth = 0, 0
				if e := m.match(s, p); e != -1 {
					found = true
					if find {
						L.Push(lua.LNumber(s + 1))
						L.Push(lua.LNumber(e))
						n = 2 + pushCaptures(L, m.captures(s, e, false))
					} else {
						n = pushCaptures(L, m.captures(s, e, true))
					}
					return
				}
				if s >= len(src) || anchor {
					return
				}
			}
		})
		if !found {
			L.Push(lua.LNil)
			return 1
		}
		return n
	}
}

func strGmatch(steps int) lua.LGFunction {
	return func(L *lua.LState) int {
		src := L.CheckString(1)
		pat := L.CheckString(2)
		pos, last := 0, -1
		L.Push(L.NewFunction(func(L *lua.LState) int {
			n := 0
			patternCall(L, src, pat, steps, func(m *matcher) {
				for s := pos; s <= len(src); s++ {
					m.level, m.depth = 0, 0
					if e := m.match(s, 0); e != -1 && e != last {
						pos, last = e, e
						n = pushCaptures(L, m.captures(s, e, true))
						return
					}
				}
				pos = len(src) + 1
			})
			return n
		}))
		return 1
	}
}

func strGsub(steps int) lua.LGFunction {
	return func(L *lua.LState) int {
		src := L.CheckString(1)
		pat := L.CheckString(2)
		repl := L.CheckAny(3)
		switch repl.Type() {
		case lua.LTString, lua.LTNumber, lua.LTTable, lua.LTFunction:
		default:
			L.ArgError(3, "string/function/table expected")
		}
		maxN := L.OptInt(4, len(src)+1)
		anchor := len(pat) > 0 && pat[0] == '^'
		p := 0
		if anchor {
			p = 1
		}
		var b strings.Builder
		count := 0
		patternCall(L, src, pat, steps, func(m *matcher) {
			s, last := 0, -1
			for count < maxN {
				m.level, m.depth = 0, 0
				if e := m.match(s, p); e != -1 && e != last {
					count++
					addValue(L, m, &b, s, e, repl)
					s, last = e, e
				} else if s < len(src) {
					b.WriteByte(src[s])
					s++
				} else {
					break
				}
				if anchor {
					break
				}
			}
			b.WriteString(src[s:])
		})
		L.Push(lua.LString(b.String()))
		L.Push(lua.LNumber(count))
		return 2
	}
}

// addValue appends the replacement of the match src[s:e].
func addValue(L *lua.LState, m *matcher, b *strings.Builder, s, e int, repl lua.LValue) {
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		addString(m, b, s, e, lua.LVAsString(r))
		return
	case *lua.LTable:
		v = L.GetTable(r, toLua(m.captureValue(0, s, e)))
	case *lua.LFunction:
		caps := m.captures(s, e, true)
		L.Push(r)
		pushCaptures(L, caps)
		L.Call(len(caps), 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	switch x := v.(type) {
	case *lua.LNilType:
		b.WriteString(m.src[s:e])
	case lua.LBool:
		if x {
			m.fail("invalid replacement value (a boolean)")
		}
		b.WriteString(m.src[s:e])
	case lua.LString, lua.LNumber:
		b.WriteString(lua.LVAsString(x))
	default:
		m.fail("invalid replacement value (a %s)", v.Type().String())
	}
}

// addString expands %0-%9 and %% in a replacement string.
func addString(m *matcher, b *strings.Builder, s, e int, r string) {
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		switch {
		case i < len(r) && r[i] == '%':
			b.WriteByte('%')
		case i < len(r) && isdigit(r[i]):
			if r[i] == '0' {
				b.WriteString(m.src[s:e])
			} else {
				switch v := m.captureValue(int(r[i]-'1'), s, e).(type) {
				case string:
					b.WriteString(v)
				case int:
					b.WriteString(lua.LNumber(v).String())
				}
			}
		default:
			m.fail("invalid use of '%%' in replacement string")
		}
	}
}

func toLua(v any) lua.LValue {
	switch x := v.(type) {
	case string:
		return lua.LString(x)
	case int:
		return lua.LNumber(x)
	}
	return lua.LNil
}
