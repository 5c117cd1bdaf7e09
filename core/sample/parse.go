package sample

import (
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Error is a problem in an expression; its text is what `varde check`
// prints after the keyword, e.g. `unknown fetch "req.hdrx" (hint: did you
// mean "req.hdr"?)`.
type Error struct {
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Msg
	}
	return e.Msg + " (hint: " + e.Hint + ")"
}

func errorf(hint, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Options say where an expression will be evaluated.
type Options struct {
	// Where is the stage the expression runs at; 0 accepts any fetch.
	Where Stage
	// Place names that stage in errors ("in http-request rules").
	Place string
	// PatRefs is the set of map files the expression's map converters
	// read. When nil, a compile made while a generation is prepared uses
	// that generation's set (generation.Build, WithPatRefs).
	PatRefs *PatRefs
	// Runtime marks a compile made while traffic flows (admin socket,
	// scripts): it never reads the generation being prepared nor a file
	// from disk; a map converter finds its file in PatRefs (loaded at
	// start-up) and takes a snapshot of it without joining its users, or
	// the compile is refused.
	Runtime bool
	// Inspect compiles an expression to look at it (which headers it
	// reads), never to evaluate it: map converters read no file and join
	// no set, so the look leaves no user behind.
	Inspect bool
}

// Expr is a compiled sample expression.
type Expr struct {
	text  string
	fetch *Fetch
	args  Args
	convs []convStep
}

type convStep struct {
	c    *Converter
	args Args
}

// String is the expression as written.
func (e *Expr) String() string { return e.text }

// FetchName is the name of the expression's fetch.
func (e *Expr) FetchName() string { return e.fetch.Name }

// FetchArg is the i-th argument given to the fetch ("" when absent).
func (e *Expr) FetchArg(i int) string { return e.args.Str[i] }

// HasConverters reports whether converters follow the fetch.
func (e *Expr) HasConverters() bool { return len(e.convs) > 0 }

// Out is the type of the expression's result.
func (e *Expr) Out() Type {
	if n := len(e.convs); n > 0 {
		return e.convs[n-1].c.Out
	}
	return e.fetch.Out
}

// RequestHeader is the request header the expression's fetch reads (all:
// every header); reads is false when it reads none.
func (e *Expr) RequestHeader() (name string, all, reads bool) {
	if e.fetch.ReqHeader == nil {
		return "", false, false
	}
	name, all = e.fetch.ReqHeader(&e.args)
	return name, all, true
}

// Where is the set of stages the expression can be evaluated at.
func (e *Expr) Where() Stage { return e.fetch.Where }

// Parse compiles a whole expression.
func Parse(text string, o Options) (*Expr, error) {
	e, n, err := ParsePrefix(text, o)
	if err != nil {
		return nil, err
	}
	if n != len(text) {
		return nil, errorf("converters follow the fetch after a comma, e.g. req.hdr(host),lower", "unexpected %q after %q", text[n:], text[:n])
	}
	return e, nil
}

// ParsePrefix compiles the expression at the start of text and returns how
// many bytes it used, so that `%[expr]` scanners find the closing bracket
// where the expression really ends (a ']' inside an argument is kept).
func ParsePrefix(text string, o Options) (*Expr, int, error) {
	name, args, i, err := parseCall(text, 0)
	if err != nil {
		return nil, i, err
	}
	if name == "" {
		return nil, i, errorf("e.g. req.hdr(host),lower", "missing fetch name in %q", text)
	}
	e := &Expr{text: text}
	if e.fetch, err = compileFetch(name, args, o); err != nil {
		return nil, i, err
	}
	if err := compileArgs(name, args, e.fetch.MinArgs, e.fetch.MaxArgs, e.fetch.Compile, &e.args); err != nil {
		return nil, i, err
	}
	out := e.fetch.Out
	for i < len(text) && text[i] == ',' {
		name, args, i, err = parseCall(text, i+1)
		if err != nil {
			return nil, i, err
		}
		st, err := compileConv(name, args, out, o)
		if err != nil {
			return nil, i, err
		}
		e.convs = append(e.convs, st)
		out = st.c.Out
	}
	e.text = text[:i]
	return e, i, nil
}

func compileFetch(name string, args []string, o Options) (*Fetch, error) {
	f, ok := fetches[name]
	if !ok && strings.HasPrefix(name, DynamicPrefix) && len(name) > len(DynamicPrefix) {
		f, ok = dynamicFetch(name), true
	}
	if !ok {
		if _, isConv := converters[name]; isConv {
			return nil, errorf("a converter follows a fetch, e.g. req.hdr(host),"+name, "%q is a converter, not a fetch", name)
		}
		if hint, known := unsupportedFetches[name]; known {
			return nil, errorf(hint, "fetch %q is not supported by varde yet", name)
		}
		return nil, errorf(didYouMean(name, FetchNames()), "unknown fetch %q", name)
	}
	if o.Where != 0 && f.Where&o.Where == 0 {
		place := o.Place
		if place == "" {
			place = "at " + o.Where.String() + " time"
		}
		return nil, errorf("it exists at "+f.Where.String()+" time", "fetch %q is not available %s", name, place)
	}
	return f, nil
}

func compileConv(name string, args []string, in Type, o Options) (convStep, error) {
	c, ok := converters[name]
	if !ok && strings.HasPrefix(name, DynamicPrefix) && len(name) > len(DynamicPrefix) {
		c, ok = dynamicConverter(name), true
	}
	if !ok {
		if _, isFetch := fetches[name]; isFetch {
			return convStep{}, errorf("an expression has one fetch; use concat or a format string to join several", "%q is a fetch, not a converter", name)
		}
		return convStep{}, errorf(didYouMean(name, ConverterNames()), "unknown converter %q", name)
	}
	if !castable(in, c.In) {
		return convStep{}, errorf("", "converter %q cannot take a %s sample", name, in)
	}
	st := convStep{c: c}
	st.args.refs, st.args.runtime, st.args.inspect = o.PatRefs, o.Runtime, o.Inspect
	err := compileArgs(name, args, c.MinArgs, c.MaxArgs, c.Compile, &st.args)
	return st, err
}

func compileArgs(name string, args []string, minA, maxA int, compile func([]string, *Args) error, a *Args) error {
	if len(args) < minA || len(args) > maxA {
		want := fmt.Sprintf("%d", minA)
		if maxA != minA {
			want = fmt.Sprintf("%d to %d", minA, maxA)
		}
		return errorf("", "%s takes %s argument(s), got %d", name, want, len(args))
	}
	a.N = len(args)
	copy(a.Str[:], args)
	if compile != nil {
		if err := compile(args, a); err != nil {
			return errorf("", "%s: %v", name, err)
		}
	}
	return nil
}

// didYouMean proposes the closest name only when it is a plausible typo.
func didYouMean(name string, names []string) string {
	best, d := diag.Nearest(name, names)
	if best == "" || d > max(len(name)/3, 2) {
		return "see docs/samples.md for the supported names"
	}
	return fmt.Sprintf("did you mean %q?", best)
}

// parseCall reads `name` or `name(arg,...)` at text[i:]. Arguments may be
// quoted with ' (literally) or " and, outside single quotes, a backslash
// protects a quote, comma, parenthesis or backslash, as in HAProxy, so that
// these can appear inside arguments.
func parseCall(text string, i int) (name string, args []string, next int, err error) {
	start := i
	for i < len(text) && isNameByte(text[i]) {
		i++
	}
	name = text[start:i]
	if name == "" {
		if i < len(text) {
			return "", nil, i, errorf("names use letters, digits, '.', '_' and '-'", "unexpected %q in %q", text[i], text)
		}
		return "", nil, i, errorf("e.g. req.hdr(host),lower", "missing name at the end of %q", text)
	}
	if i >= len(text) || text[i] != '(' {
		return name, nil, i, nil
	}
	args, i, err = parseArgs(text, i+1)
	return name, args, i, err
}

func parseArgs(text string, i int) ([]string, int, error) {
	var args []string
	var cur strings.Builder
	var quote byte
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\' && i+1 < len(text) && quote != '\'':
			// A backslash protects a quote, a comma, a parenthesis or
			// itself; before anything else it stays (regsub's \1).
			i++
			if !strings.ContainsRune(`\'",()`, rune(text[i])) {
				cur.WriteByte('\\')
			}
			cur.WriteByte(text[i])
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ',':
			args = append(args, cur.String())
			cur.Reset()
		case c == ')':
			if len(args) > 0 || cur.Len() > 0 {
				args = append(args, cur.String())
			}
			return args, i + 1, nil
		default:
			cur.WriteByte(c)
		}
	}
	return nil, i, errorf("close it with ')' (quote arguments that contain one)", "missing ')' in %q", text)
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// unsupportedFetches are HAProxy fetches real configurations use that varde
// cannot evaluate yet, with what to do instead.
var unsupportedFetches = map[string]string{
	"env":       "expand ${VAR} in the configuration instead",
	"date":      "not supported yet",
	"rand":      "not supported yet",
	"unique-id": "unique-id-format is not supported yet",
}
