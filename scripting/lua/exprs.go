package lua

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/varde-lb/varde/core/sample"
)

// maxExprs bounds the expressions a policy caches: a script building
// expressions from request data must not grow the cache without end (past
// the bound each one is compiled per call).
const maxExprs = 256

// exprCache compiles req:fetch expressions once per policy. Reads take no
// lock (sync.Map); the literal expressions of the source are compiled at
// load, so a bad one is a check-time error with its line.
type exprCache struct {
	m sync.Map // string -> *sample.Expr
	n atomic.Int32
}

var sampleOpts = sample.Options{Where: sample.AtRequest, Place: "in a policy's req:fetch"}

// runtimeOpts compile an expression a request needs that load did not
// (the cache was full, or not a literal): such a compile never joins a
// generation's map users nor reads a map file from disk (docs/maps.md).
var runtimeOpts = func() sample.Options { o := sampleOpts; o.Runtime = true; return o }()

// get returns text's compiled expression; runtime is false only at load.
func (c *exprCache) get(text string, runtime bool) (*sample.Expr, error) {
	if e, ok := c.m.Load(text); ok {
		return e.(*sample.Expr), nil
	}
	o := sampleOpts
	if runtime {
		o = runtimeOpts
	}
	e, err := sample.Parse(text, o)
	if err != nil {
		return nil, err
	}
	if c.n.Add(1) <= maxExprs {
		c.m.Store(text, e)
	}
	return e, nil
}

var fetchLiteral = regexp.MustCompile(`:\s*fetch\s*\(\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')`)

// precompile compiles every req:fetch("literal") of src.
func (c *exprCache) precompile(src []byte, name string) error {
	for _, m := range fetchLiteral.FindAllSubmatchIndex(src, -1) {
		lo, hi := m[2], m[3]
		if lo < 0 {
			lo, hi = m[4], m[5]
		}
		text := string(src[lo:hi])
		if _, err := c.get(text, false); err != nil {
			line := 1 + strings.Count(string(src[:m[0]]), "\n")
			return fmt.Errorf("%s:%d: req:fetch(%q): %w", name, line, text, err)
		}
	}
	return nil
}
