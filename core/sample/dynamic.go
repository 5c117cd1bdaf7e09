package sample

import (
	"strings"
)

// Dynamic evaluates the fetches and converters a script registered
// (HAProxy's `lua.NAME`, from core.register_fetches/register_converters).
// Their names are only known once the scripts ran, at generation Prepare,
// so the parser accepts any `lua.` name and the scripting subsystem checks
// each one against what was registered (an unknown name is a check error
// at the configuration line). core never imports a scripting engine: the
// engine puts its Dynamic in the Ctx (RequestCtx, through ScriptState).
type Dynamic interface {
	Fetch(c *Ctx, name string, a *Args, out *Value) bool
	Convert(c *Ctx, name string, a *Args, v *Value, scratch []byte) ([]byte, bool)
}

// ScriptState is implemented by request views that carry a script host and
// the transaction's variables; RequestCtx copies them into the Ctx.
type ScriptState interface {
	ScriptState() (Dynamic, *Vars)
}

// DynamicPrefix starts the names of script-registered fetches and converters.
const DynamicPrefix = "lua."

// dynamicFetch is the placeholder of a `lua.NAME` fetch: evaluation asks
// the Ctx's Dynamic, and without one there is no sample.
func dynamicFetch(name string) *Fetch {
	return &Fetch{
		Name: name, MinArgs: 0, MaxArgs: len(Args{}.Str), Out: TypeStr, Where: AtRequest | AtResponse,
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			if c.Dyn == nil {
				return false
			}
			return c.Dyn.Fetch(c, name, a, out)
		},
		Doc: "a fetch registered by a lua-load script (core.register_fetches)",
	}
}

func dynamicConverter(name string) *Converter {
	return &Converter{
		Name: name, MinArgs: 0, MaxArgs: len(Args{}.Str), In: TypeStr, Out: TypeStr,
		EvalCtx: func(c *Ctx, a *Args, v *Value, scratch []byte) ([]byte, bool) {
			if c.Dyn == nil {
				return scratch, false
			}
			return c.Dyn.Convert(c, name, a, v, scratch)
		},
		Doc: "a converter registered by a lua-load script (core.register_converters)",
	}
}

// DynamicNames lists the `lua.` fetch and converter names an expression
// or a log-format text uses, for the scripting subsystem's check: kind is
// "fetch" or "converter". It scans the text, so it also finds names inside
// %[...] and ACL criteria.
func DynamicNames(text string) (fetchNames, convNames []string) {
	for i := 0; i < len(text); {
		j := strings.Index(text[i:], DynamicPrefix)
		if j < 0 {
			break
		}
		j += i
		k := j + len(DynamicPrefix)
		for k < len(text) && isNameByte(text[k]) {
			k++
		}
		if k > j+len(DynamicPrefix) && (j == 0 || !isNameByte(text[j-1])) {
			name := text[j:k]
			if j > 0 && text[j-1] == ',' {
				convNames = append(convNames, name)
			} else {
				fetchNames = append(fetchNames, name)
			}
		}
		i = k
	}
	return fetchNames, convNames
}
