package sample

import (
	"fmt"
	"sort"
)

// Args are a fetch's or converter's compiled arguments. Compile functions
// fill what they need; evaluation only reads them.
type Args struct {
	Str [3]string
	Int [3]int64
	N   int // number of arguments given
	P   any // compiled state: regular expression, map, ...
	// Single is set by a fetch's Compile when the arguments select one
	// value (an explicit occurrence): the ACL form then evaluates once.
	Single bool
	// refs, runtime and inspect are the compile's Options.PatRefs, Runtime
	// and Inspect
	// (map converters).
	refs             *PatRefs
	runtime, inspect bool
}

// Visitor receives the values of a multi-valued fetch in ACL context; it
// returns true to stop (the ACL matched).
type Visitor interface {
	Visit(v *Value) bool
}

// Fetch describes one sample fetch.
type Fetch struct {
	Name             string
	MinArgs, MaxArgs int
	Out              Type
	Where            Stage
	// Compile checks and converts the arguments; nil stores them as strings.
	Compile func(args []string, a *Args) error
	// Eval writes the sample into out; false means no sample.
	Eval func(c *Ctx, a *Args, out *Value) bool
	// EvalBuf replaces Eval for the few fetches that build their sample
	// (base joins two buffers): new bytes go to the end of scratch.
	EvalBuf func(c *Ctx, a *Args, out *Value, scratch []byte) ([]byte, bool)
	// Each, when set, is the ACL form: every value (all occurrences of a
	// header, of a cookie...) is given to v until it returns true.
	Each func(c *Ctx, a *Args, v Visitor) bool
	// ReqHeader names the request header the fetch reads (all: every
	// header), so that log-format, evaluated after the request is gone,
	// gets it kept; nil for fetches that read no request header.
	ReqHeader func(a *Args) (name string, all bool)
	Doc       string
}

// Converter describes one converter.
type Converter struct {
	Name             string
	MinArgs, MaxArgs int
	In, Out          Type
	Compile          func(args []string, a *Args) error
	// Eval transforms v in place; new bytes go to the end of scratch.
	Eval func(a *Args, v *Value, scratch []byte) ([]byte, bool)
	// EvalCtx replaces Eval for converters that need the evaluation's
	// context (script-registered converters, lua.NAME).
	EvalCtx func(c *Ctx, a *Args, v *Value, scratch []byte) ([]byte, bool)
	Doc     string
}

// The registries are filled by init functions and read-only afterwards.
var (
	fetches    = map[string]*Fetch{}
	converters = map[string]*Converter{}
)

// RegisterFetch adds a fetch; a duplicate name is a programming error.
func RegisterFetch(f *Fetch) {
	if _, dup := fetches[f.Name]; dup {
		panic(fmt.Sprintf("sample: fetch %q registered twice", f.Name))
	}
	fetches[f.Name] = f
}

// RegisterConverter adds a converter; a duplicate name is a programming error.
func RegisterConverter(c *Converter) {
	if _, dup := converters[c.Name]; dup {
		panic(fmt.Sprintf("sample: converter %q registered twice", c.Name))
	}
	converters[c.Name] = c
}

// LookupFetch returns the named fetch.
func LookupFetch(name string) (*Fetch, bool) {
	f, ok := fetches[name]
	return f, ok
}

// LookupConverter returns the named converter.
func LookupConverter(name string) (*Converter, bool) {
	c, ok := converters[name]
	return c, ok
}

// FetchNames lists every registered fetch, sorted.
func FetchNames() []string { return sortedKeys(fetches) }

// ConverterNames lists every registered converter, sorted.
func ConverterNames() []string { return sortedKeys(converters) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
