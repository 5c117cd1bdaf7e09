package proxy

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/sample"
)

// PatRefs is the generation's set of map and ACL files (show map, add
// map ... on the admin socket); nil for an engine built outside a
// generation.
func (e *Engine) PatRefs() *sample.PatRefs { return e.patRefs }

// generationPatRefs is the set generation.Build opened for every
// subsystem (log formats read maps too), or a new one for an engine built
// outside a generation.
func generationPatRefs() *sample.PatRefs {
	if r := sample.CurrentPatRefs(); r != nil {
		return r
	}
	return sample.NewPatRefs()
}

// withPatRefs runs a compile step with refs as the set that map converters
// and ACL -f files attach to, so that every user of a file in this
// generation shares one list.
func withPatRefs[T, U any](refs *sample.PatRefs, fn func() (T, U)) (t T, u U) {
	if sample.CurrentPatRefs() == refs {
		return fn() // already in the generation's scope
	}
	sample.WithPatRefs(refs, func() { t, u = fn() })
	return t, u
}

type patRefSet = sample.PatRefs

// The set-map, del-map, add-acl and del-acl actions (config/maps.go): they
// evaluate their log-format strings and change the generation's shared
// list of FILE, which every converter and ACL reading FILE sees at once.
// As in HAProxy, an action on a file that no converter or ACL of the
// configuration loads changes nothing.
func init() {
	registerActor(buildMapActor, "set-map", "del-map", "add-acl", "del-acl")
}

type mapActor struct {
	op    string // set-map, del-map, add-acl, del-acl
	file  string
	refs  *sample.PatRefs
	ref   atomic.Pointer[sample.PatRef] // found on first use
	key   *sample.Template
	value *sample.Template
}

func buildMapActor(r *config.HTTPRule) (Actor, error) {
	o := sample.Options{Where: sample.AtRequest | sample.AtResponse}
	a := &mapActor{op: actionBase(r.Action), file: r.Name, refs: sample.CurrentPatRefs()}
	var err error
	if a.key, err = sample.ParseTemplate(r.Value, o); err != nil {
		return nil, fmt.Errorf("%s key: %w", a.op, err)
	}
	if a.op == "set-map" && len(r.Args) == 1 {
		if a.value, err = sample.ParseTemplate(r.Args[0], o); err != nil {
			return nil, fmt.Errorf("%s value: %w", a.op, err)
		}
	}
	return a, nil
}

// patRef finds FILE in the generation once the whole configuration is
// compiled (a rule may come before the converter that loads the file).
func (a *mapActor) patRef() *sample.PatRef {
	if r := a.ref.Load(); r != nil {
		return r
	}
	if a.refs == nil {
		return nil
	}
	r := a.refs.Lookup(a.file)
	if r != nil {
		a.ref.Store(r)
	}
	return r
}

// Do implements Actor. set-map runs per request (`set-map(f) %[src] ...`
// is the common use), so its cost matters (docs/maps.md): a key set to the
// value it has changes nothing; a new key is appended (O(1) amortised for
// map_str users, a rebuild for the others); a new value for an existing
// key, del-map and del-acl rebuild the file's users, O(file size), paid by
// the request. Changes lock the file alone.
func (a *mapActor) Do(s *session, resp bool) Verdict {
	r := a.patRef()
	if r == nil {
		return Verdict{}
	}
	ev := ruleEvals.Get().(*ruleEval)
	s.evalCtx(&ev.ctx, resp)
	var key, val []byte
	key, ev.scratch = a.key.Append(nil, &ev.ctx, ev.scratch)
	if a.value != nil {
		val, ev.scratch = a.value.Append(nil, &ev.ctx, ev.scratch)
	}
	ev.ctx.Reset()
	ruleEvals.Put(ev)
	if len(key) == 0 {
		return Verdict{}
	}
	var err error
	switch a.op {
	case "set-map":
		err = r.SetOrAdd(string(key), string(val))
	case "add-acl":
		err = r.AddOnce(string(key))
	default: // del-map, del-acl
		err = r.Del(string(key))
	}
	if err != nil && !errors.Is(err, sample.ErrKeyNotFound) {
		// HAProxy drops a value the file's users cannot read, silently.
		s.e.log.Debug("map action refused", "action", a.op, "file", a.file, "err", err)
	}
	return Verdict{}
}
