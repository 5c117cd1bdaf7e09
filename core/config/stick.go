package config

import (
	"strings"
	"time"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sample"
	"github.com/varde-lb/varde/core/sticktable"
)

// Stick tables (docs/stick-tables.md): `stick-table` in a frontend,
// backend or listen section, and the rules that track entries in them:
//
//	http-request track-sc0|1|2 KEY [table NAME] [if|unless COND]
//	tcp-request connection|content track-sc0|1|2 KEY [table NAME] [if|unless COND]
//	http-request sc-inc-gpc0(N) [if|unless COND]
//	http-request sc-set-gpt0(N) VALUE [if|unless COND]
//
// `peers NAME` is checked in peers.go.

// StickTable is a proxy's `stick-table` line; the table is named after the proxy.
type StickTable struct {
	Pos diag.Pos       `json:"pos"`
	Def sticktable.Def `json:"def"`
	// Peers is `peers NAME`: the peers section the table is replicated
	// with (peers.go, docs/peers.md).
	Peers    string   `json:"peers,omitempty"`
	PeersPos diag.Pos `json:"-"`
}

// TrackSC is a track-scN rule (Key set) or an sc-inc-gpc0/sc-set-gpt0
// action (Value set for sc-set-gpt0) on counter Slot.
type TrackSC struct {
	Slot  int    `json:"slot"`
	Key   string `json:"key,omitempty"`   // a sample expression
	Table string `json:"table,omitempty"` // "": the rule's own proxy's table
	Value string `json:"value,omitempty"` // sc-set-gpt0: an integer
}

const stickTableUsage = "stick-table type ip|ipv6|integer|string [len N]|binary [len N] size N [expire T] [nopurge] [peers NAME] [store TYPE,...]"

// parseStickTable reads a stick-table line.
func (p *parser) parseStickTable(l Line, words []Token) {
	const kw = "stick-table"
	px := p.cur
	if px.StickTable != nil {
		p.d.Errorf(words[0].Pos, kw, "one stick-table per section; declare another in a backend of its own", "only one stick-table per proxy (the first is at %s)", px.StickTable.Pos)
		return
	}
	if st, ok := p.stickTableDef(kw, px.Name, l.Pos, words); ok {
		px.StickTable = st
	}
}

// stickTableDef reads the options after words[0] (stick-table, or a
// peers section's `table NAME`) into a table named name.
func (p *parser) stickTableDef(kw, name string, pos diag.Pos, words []Token) (*StickTable, bool) {
	st := &StickTable{Pos: pos, Def: sticktable.Def{Name: name, Size: -1}}
	typ := ""
	for i := 1; i < len(words); i++ {
		w := words[i]
		var v Token
		switch w.Text {
		case "type", "len", "size", "expire", "store", "peers":
			if i+1 >= len(words) {
				p.d.Errorf(w.Pos, kw, stickTableUsage, "%s needs a value", w.Text)
				return nil, false
			}
			i++
			v = words[i]
		}
		switch w.Text {
		case "type":
			typ = v.Text
			if !p.stickKeyType(&st.Def, v) {
				return nil, false
			}
		case "len":
			n, ok := p.intVal(v, kw, 1, 65535)
			if !ok {
				return nil, false
			}
			st.Def.KeyLen = n
		case "size":
			n, err := sticktable.ParseSize(v.Text)
			if err != nil {
				p.d.Errorf(v.Pos, kw, "a number with an optional k, m or g suffix: size 100k", "%v", err)
				return nil, false
			}
			st.Def.Size = n
		case "expire":
			st.Def.Expire = p.duration(v, kw)
		case "nopurge":
			st.Def.NoPurge = true
		case "store":
			if !p.stickStore(&st.Def, v) {
				return nil, false
			}
		case "peers": // checked once every peers section is read (peers.go)
			st.Peers, st.PeersPos = v.Text, v.Pos
		default:
			p.d.Errorf(w.Pos, kw, stickTableUsage, "stick-table option %q is not supported by varde", w.Text)
			return nil, false
		}
	}
	if typ == "" || st.Def.Size < 0 {
		p.d.Errorf(words[0].Pos, kw, stickTableUsage, "stick-table needs a type and a size")
		return nil, false
	}
	if st.Def.KeyLen > 0 && st.Def.Key != sticktable.KeyString && st.Def.Key != sticktable.KeyBinary {
		p.d.Errorf(words[0].Pos, kw, "len applies to string and binary keys", "stick-table type %s takes no len", typ)
		return nil, false
	}
	return st, true
}

func (p *parser) stickKeyType(d *sticktable.Def, v Token) bool {
	for k, name := range []string{"ip", "ipv6", "integer", "string", "binary"} {
		if v.Text == name {
			d.Key = sticktable.KeyType(k)
			return true
		}
	}
	p.d.Errorf(v.Pos, "stick-table", "ip, ipv6, integer, string or binary", "unknown stick-table type %q", v.Text)
	return false
}

func (p *parser) stickStore(d *sticktable.Def, v Token) bool {
	for _, item := range strings.Split(v.Text, ",") {
		s, err := sticktable.ParseStore(item, func(t string) (time.Duration, error) { return parseDurationUnit(t, time.Millisecond) })
		if err != nil {
			p.d.Errorf(v.Pos, "stick-table", "data types: "+strings.Join(sticktable.TypeNames(), ", "), "stick-table store: %v", err)
			return false
		}
		d.Store = append(d.Store, s)
	}
	return true
}

// trackSlot reads N of track-scN, sc-inc-gpc0(N), sc-set-gpt0(N).
func trackSlot(action string) (slot int, ok bool) {
	for _, pre := range []string{"track-sc", "sc-inc-gpc0(", "sc-inc-gpc1(", "sc-set-gpt0("} {
		rest, found := strings.CutPrefix(action, pre)
		if !found {
			continue
		}
		rest = strings.TrimSuffix(rest, ")")
		if len(rest) == 1 && rest[0] >= '0' && rest[0] <= '2' {
			return int(rest[0] - '0'), true
		}
	}
	return 0, false
}

// parseTrack reads the words after a track-scN action (before its
// condition): KEY [table NAME].
func (p *parser) parseTrack(key, action string, at diag.Pos, args []Token) (*TrackSC, bool) {
	slot, ok := trackSlot(action)
	if !ok {
		p.d.Errorf(at, key, "track-sc0, track-sc1 or track-sc2", "%s: only counters 0 to 2 exist (tune.stick-counters)", key)
		return nil, false
	}
	if len(args) != 1 && !(len(args) == 3 && args[1].Text == "table") {
		p.d.Errorf(at, key, key+" KEY [table NAME] [if|unless COND]", "%s expects a key expression and an optional table", key)
		return nil, false
	}
	t := &TrackSC{Slot: slot, Key: args[0].Text}
	if len(args) == 3 {
		t.Table = args[2].Text
	}
	return t, true
}

// parseSCAction reads sc-inc-gpc0(N) and sc-set-gpt0(N) VALUE.
func (p *parser) parseSCAction(key, action string, at diag.Pos, args []Token) (*TrackSC, bool) {
	slot, ok := trackSlot(action)
	if !ok {
		p.d.Errorf(at, key, strings.SplitN(action, "(", 2)[0]+"(0|1|2)", "%s: only counters 0 to 2 exist", action)
		return nil, false
	}
	t := &TrackSC{Slot: slot}
	if strings.HasPrefix(action, "sc-set-gpt0") {
		if len(args) != 1 {
			p.d.Errorf(at, key, "sc-set-gpt0(N) VALUE [if|unless COND]", "sc-set-gpt0 expects an integer value")
			return nil, false
		}
		if _, err := ParseInt(args[0].Text, 0, 1<<32-1); err != nil {
			p.d.Errorf(args[0].Pos, key, "an integer; expressions are not built yet", "sc-set-gpt0 value %q: %v", args[0].Text, err)
			return nil, false
		}
		t.Value = args[0].Text
		return t, true
	}
	if len(args) != 0 {
		p.d.Errorf(args[0].Pos, key, actionBase(action)+"(N) [if|unless COND]", "unexpected %q", args[0].Text)
		return nil, false
	}
	return t, true
}

// validateStick checks that every tracking rule names a table that
// exists (its own proxy's when none is named) and that its key
// expression compiles at the rule's stage.
func (c *Config) validateStick(px *Proxy, d *diag.List) {
	check := func(pos diag.Pos, kw string, t *TrackSC, where sample.Stage) {
		if t == nil || t.Key == "" {
			return
		}
		name := t.Table
		if name == "" {
			name = px.Name
		}
		if c.StickTableOf(name) == nil {
			hint := "add a stick-table line to " + px.Name + ", or name a table: " + kw + " KEY table BACKEND"
			if t.Table != "" {
				hint = "declare `stick-table ...` in backend " + t.Table
			}
			d.Errorf(pos, kw, hint, "%s: no stick table %q", kw, name)
			return
		}
		if _, err := sample.Parse(t.Key, sample.Options{Where: where, Place: "in " + kw}); err != nil {
			reportSampleErr(d, pos, kw, err)
		}
	}
	for _, r := range px.HTTPRequest {
		check(r.Pos, "http-request "+r.Action, r.Track, sample.AtRequest)
	}
	for _, r := range px.TCPRequest {
		check(r.Pos, "tcp-request "+r.Layer+" "+r.Action, r.Track, 0)
	}
}

// StickTableOf returns the table declared by the proxy named name, or
// the `table` line of a peers section ("SECTION/NAME").
func (c *Config) StickTableOf(name string) *StickTable {
	for _, px := range c.Proxies {
		if px.Name == name && px.StickTable != nil {
			return px.StickTable
		}
	}
	for _, s := range c.Peers {
		for _, t := range s.Tables {
			if t.Def.Name == name {
				return t
			}
		}
	}
	return nil
}

// stickFetchTable returns the table a stick-counter fetch criterion names
// (its table argument), and whether the criterion is one: "" with isSrc
// for a src_* fetch without a table (the proxy's own is meant).
func stickFetchTable(criterion, arg string) (table string, isSrc, ok bool) {
	args := strings.Split(arg, ",")
	switch {
	case strings.HasPrefix(criterion, "src_") && criterion != "src_port":
		return strings.TrimSpace(args[0]), true, true
	case strings.HasPrefix(criterion, "sc_"):
		if len(args) > 1 {
			return strings.TrimSpace(args[1]), false, true
		}
		return "", false, true
	case len(criterion) > 4 && criterion[:2] == "sc" && criterion[2] >= '0' && criterion[2] <= '2' && criterion[3] == '_':
		return strings.TrimSpace(args[0]), false, true
	}
	return "", false, false
}

// validateStickFetches refuses, as HAProxy does, a stick-counter fetch
// naming a table that does not exist, and a src_* fetch without a table
// in a section that has none: it would never match (a deny that never
// denies).
func (c *Config) validateStickFetches(px *Proxy, d *diag.List) {
	check := func(a *ACL) {
		if a == nil {
			return
		}
		table, isSrc, ok := stickFetchTable(a.Criterion, a.Arg)
		if !ok {
			return
		}
		switch {
		case table != "" && c.StickTableOf(table) == nil:
			d.Errorf(a.Pos, a.Criterion, "declare `stick-table ...` in backend "+table, "%s: no stick table %q", a.Criterion, table)
		case table == "" && isSrc && px.StickTable == nil:
			d.Errorf(a.Pos, a.Criterion, a.Criterion+"(TABLE), or a stick-table line in "+px.Name, "%s: %s %q has no stick table (HAProxy refuses it too)", a.Criterion, px.Kind, px.Name)
		}
	}
	eachACL(px, check)
}

// StickRule is `stick on|match|store-request EXPR [table NAME] [if|unless COND]`.
type StickRule struct {
	Pos   diag.Pos   `json:"pos"`
	Kind  string     `json:"kind"` // on, match, store-request, store-response
	Key   string     `json:"key"`
	Table string     `json:"table,omitempty"` // "": the backend's own
	Cond  *Condition `json:"cond,omitempty"`
}

// parseStick reads a stick line whose key (stick on|match|store-request) was resolved.
func (p *parser) parseStick(l Line, key string, words []Token) {
	args, cond, ok := p.splitCond(key, words[2:])
	if !ok {
		return
	}
	if len(args) != 1 && !(len(args) == 3 && args[1].Text == "table") {
		p.d.Errorf(words[1].Pos, key, key+" EXPR [table NAME] [if|unless COND]", "%s expects a pattern expression and an optional table", key)
		return
	}
	r := &StickRule{Pos: l.Pos, Kind: words[1].Text, Key: args[0].Text, Cond: cond}
	if len(args) == 3 {
		r.Table = args[2].Text
	}
	p.cur.Stick = append(p.cur.Stick, r)
}

// validateStickRules: the table exists, the key compiles, and the proxy
// is mode http (varde matches and stores in HTTP transactions only).
func (c *Config) validateStickRules(px *Proxy, d *diag.List) {
	for _, r := range px.Stick {
		kw := "stick " + r.Kind
		name := r.Table
		if name == "" {
			name = px.Name
		}
		switch {
		case c.StickTableOf(name) == nil:
			d.Errorf(r.Pos, kw, "add a stick-table line to "+name, "%s: no stick table %q", kw, name)
		case px.EffectiveMode() != "http":
			d.Errorf(r.Pos, kw, "use balance source in mode tcp", "%s in mode tcp is not built yet: clients would not stick", kw)
		default:
			where := sample.AtRequest
			if r.Kind == "store-response" { // sampled on the server's response head
				where = sample.AtResponse
			}
			if _, err := sample.Parse(r.Key, sample.Options{Where: where, Place: "in " + kw}); err != nil {
				reportSampleErr(d, r.Pos, kw, err)
			}
		}
	}
}
