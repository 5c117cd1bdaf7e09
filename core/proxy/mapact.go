package proxy

import "github.com/varde-lb/varde/core/sample"

// PatRefs is the generation's set of map and ACL files (show map, add
// map ... on the admin socket); nil for an engine built outside a
// generation.
func (e *Engine) PatRefs() *sample.PatRefs { return e.patRefs }

// withPatRefs runs a compile step with refs as the set that map converters
// and ACL -f files attach to, so that every user of a file in this
// generation shares one list.
func withPatRefs[T, U any](refs *sample.PatRefs, fn func() (T, U)) (t T, u U) {
	sample.WithPatRefs(refs, func() { t, u = fn() })
	return t, u
}

type patRefSet = sample.PatRefs
