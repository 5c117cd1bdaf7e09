package admin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/sample"
)

// Maps and ACL files on the CLI, as HAProxy 2.6 (its map.c):
//
//	show map|acl [FILE|#ID]         the list of files, or one file's entries
//	get map|acl FILE|#ID VALUE      how each user of the file matches VALUE
//	add map FILE KEY VALUE          (or `add map FILE <<` and KEY VALUE lines)
//	add acl FILE PATTERN
//	set map FILE KEY|#REF VALUE     every entry with KEY, or the one entry #REF
//	del map|acl FILE KEY|#REF
//	clear map|acl FILE
//
// They act on the running generation's shared lists (sample.PatRefs); a
// reload reads the files again, so run-time changes end with it, as in
// HAProxy.
//
//	prepare map|acl FILE              opens version N (answer: New version created: N)
//	add|show|clear map|acl @N FILE ...  works on version N
//	commit map|acl @N FILE            makes version N the live list, atomically

const (
	OpShowMap Op = 700 + iota // a range of its own: other command files number theirs apart
	OpShowACL
	OpGetMap
	OpGetACL
	OpAddMap
	OpAddACL
	OpSetMap
	OpDelMap
	OpDelACL
	OpClearMap
	OpClearACL
	OpPrepareMap
	OpPrepareACL
	OpCommitMap
	OpCommitACL
)

var mapOps = map[string][2]Op{
	"show": {OpShowMap, OpShowACL}, "get": {OpGetMap, OpGetACL}, "add": {OpAddMap, OpAddACL},
	"set": {OpSetMap, 0}, "del": {OpDelMap, OpDelACL}, "clear": {OpClearMap, OpClearACL},
	"prepare": {OpPrepareMap, OpPrepareACL}, "commit": {OpCommitMap, OpCommitACL},
}

// isACLOp reports whether op is the acl form of a command.
func isACLOp(op Op) bool {
	switch op {
	case OpShowACL, OpGetACL, OpAddACL, OpDelACL, OpClearACL, OpPrepareACL, OpCommitACL:
		return true
	}
	return false
}

// parseMap reads VERB map|acl ARGS... into File, Key, Value.
func parseMap(w []string) (Command, error) {
	ops, ok := mapOps[w[0]]
	i := 0
	if w[1] == "acl" {
		i = 1
	}
	if !ok || ops[i] == 0 {
		return Command{}, ErrUnknown
	}
	c := Command{Op: ops[i]}
	args := w[2:]
	// show, add, clear and commit take a version; del, set and get read
	// "@N" as the file name, as HAProxy (which then does not find it).
	switch w[0] {
	case "show", "add", "clear", "commit":
		if len(args) > 0 && strings.HasPrefix(args[0], "@") {
			c.Ver, args = args[0], args[1:]
		}
	}
	if w[0] == "commit" && c.Ver == "" {
		return c, sample.ErrNoVersion
	}
	if len(args) > 0 {
		c.File = args[0]
	}
	if len(args) > 1 {
		c.Key = args[1]
	}
	if len(args) > 2 {
		c.Value = args[2]
	}
	return c, mapUsage(c, len(args))
}

// mapUsage is HAProxy's message for a command missing its arguments.
func mapUsage(c Command, n int) error {
	what := "map"
	if isACLOp(c.Op) {
		what = "ACL"
	}
	switch {
	case c.Op == OpGetMap || c.Op == OpGetACL:
		if n < 2 {
			return fmt.Errorf("Missing %s identifier and/or key.", what)
		}
	case c.Op == OpAddMap && n != 1 && n < 3:
		return errors.New("'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload")
	case c.Op == OpAddACL && n < 2:
		return errors.New("'add acl' expects two parameters: ACL identifier and pattern.")
	case c.Op == OpSetMap && n < 3:
		return errors.New("'set map' expects three parameters: map identifier, key and value.")
	case (c.Op == OpDelMap || c.Op == OpDelACL) && n < 2:
		return fmt.Errorf("This command expects two parameters: %s identifier and key.", what)
	case (c.Op == OpClearMap || c.Op == OpClearACL) && n < 1:
		return fmt.Errorf("Missing %s identifier.", what)
	}
	return nil
}

// mapLevel: reading needs user level, changing operator (HAProxy's).
func mapLevel(op Op) Level {
	switch op {
	case OpShowMap, OpShowACL, OpGetMap, OpGetACL:
		return LevelUser
	}
	return LevelOperator
}

// runMaps runs a map or acl command; ok is false for any other command.
func (s *Server) runMaps(cmd Command) (string, bool) {
	if cmd.Op < OpShowMap || cmd.Op > OpCommitACL {
		return "", false
	}
	var refs *sample.PatRefs
	if s.rt.Engine != nil {
		refs = s.rt.Engine.PatRefs()
	}
	acl := isACLOp(cmd.Op)
	if cmd.Op == OpShowMap || cmd.Op == OpShowACL {
		if cmd.File == "" {
			return listRefs(refs, acl), true
		}
	}
	r := lookupRef(refs, cmd.File, acl)
	if r == nil {
		if acl {
			return "Unknown ACL identifier. Please use #<id> or <file>.\n", true
		}
		return "Unknown map identifier. Please use #<id> or <file>.\n", true
	}
	return s.runOnRef(r, cmd), true
}

func lookupRef(refs *sample.PatRefs, name string, acl bool) *sample.PatRef {
	if refs == nil {
		return nil
	}
	r := refs.Lookup(name)
	if r == nil || !acl && !r.IsMap || acl && !r.HasACL {
		return nil // `show map` sees the maps, `show acl` the files ACLs read
	}
	return r
}

func (s *Server) runOnRef(r *sample.PatRef, cmd Command) string {
	if out, ok := s.runVersion(r, cmd); ok {
		return out
	}
	var err error
	switch cmd.Op {
	case OpShowMap, OpShowACL:
		return showEntries(r, r.Entries())
	case OpGetMap, OpGetACL:
		return probeRef(r, cmd.Key, isACLOp(cmd.Op))
	case OpAddMap, OpAddACL:
		err = addEntries(r, cmd)
	case OpSetMap:
		err = r.Set(cmd.Key, cmd.Value)
	case OpDelMap, OpDelACL:
		err = r.Del(cmd.Key)
	case OpClearMap, OpClearACL:
		err = r.Clear()
	}
	if err != nil {
		return err.Error() + "\n"
	}
	s.log.Info("admin: map or acl changed", "file", r.File, "op", opWord(cmd.Op))
	return ""
}

func opWord(op Op) string {
	return map[Op]string{OpAddMap: "add", OpAddACL: "add", OpSetMap: "set", OpDelMap: "del", OpDelACL: "del", OpClearMap: "clear", OpClearACL: "clear",
		OpPrepareMap: "prepare", OpPrepareACL: "prepare", OpCommitMap: "commit", OpCommitACL: "commit"}[op]
}

// addEntries adds the command's entry, or each line of its payload
// ("KEY VALUE" for maps, "PATTERN" for ACL files) in one change.
func addEntries(r *sample.PatRef, cmd Command) error {
	es, err := payloadEntries(r, cmd)
	if err != nil {
		return err
	}
	return r.Add(es...)
}

// payloadEntries are the entries of an add command: its KEY [VALUE], or
// the lines of its payload.
func payloadEntries(r *sample.PatRef, cmd Command) ([]sample.PatEntry, error) {
	if cmd.Key != "" {
		v := cmd.Value
		if !r.IsMap {
			v = ""
		}
		return []sample.PatEntry{{Key: cmd.Key, Value: v}}, nil
	}
	var es []sample.PatEntry
	for _, l := range strings.Split(cmd.Payload, "\n") {
		if e, ok := sample.ParsePayloadLine(l, r.IsMap); ok {
			es = append(es, e)
		}
	}
	if len(es) == 0 && cmd.Payload == "" {
		return nil, errors.New("'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload")
	}
	return es, nil
}

// listRefs is `show map` / `show acl`: the files maps read, or the files
// ACLs read (a map file read by an `acl -M` is in both lists, as HAProxy's).
func listRefs(refs *sample.PatRefs, acl bool) string {
	var b strings.Builder
	b.WriteString("# id (file) description\n")
	if refs == nil {
		return b.String()
	}
	for _, r := range refs.List() {
		if !acl && !r.IsMap || acl && !r.HasACL {
			continue
		}
		curr, next := r.Versions()
		fmt.Fprintf(&b, "%d (%s) pattern loaded from file '%s' used by %s. curr_ver=%d next_ver=%d entry_cnt=%d\n",
			r.ID, r.File, r.File, usedBy(r), curr, next, r.Count()*exprCount(r))
	}
	return b.String()
}

// usedBy names the kinds of users, each once: varde does not keep the
// configuration line of each use that HAProxy prints ("map at file
// 'haproxy.cfg' line 12").
func usedBy(r *sample.PatRef) string {
	var kinds []string
	for _, k := range r.Used {
		if len(kinds) == 0 || !strings.Contains(strings.Join(kinds, ","), k) {
			kinds = append(kinds, k)
		}
	}
	return strings.Join(kinds, ", by ")
}

// exprCount is the number of HAProxy pattern expressions built on r: one
// per ACL, one per (match, output) of map converters. HAProxy's entry_cnt
// counts the entries of each.
func exprCount(r *sample.PatRef) int {
	seen := map[string]bool{}
	n := 0
	for _, u := range r.Users() {
		g := u.Probe("").Group
		if g == "" || !seen[g] {
			n++
		}
		seen[g] = true
	}
	return n
}

// showEntries is `show map FILE`: one "0xID KEY [VALUE]" line per entry.
func showEntries(r *sample.PatRef, es []sample.PatEntry) string {
	var b strings.Builder
	for _, e := range es {
		if r.IsMap {
			fmt.Fprintf(&b, "0x%x %s %s\n", e.ID, e.Key, e.Value)
		} else {
			fmt.Fprintf(&b, "0x%x %s\n", e.ID, e.Key)
		}
	}
	return b.String()
}

// probeRef is `get map|acl FILE VALUE`: one line per user, map converters
// of the same match and output sharing one (HAProxy shares their pattern
// expression).
func probeRef(r *sample.PatRef, key string, acl bool) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, u := range r.Users() {
		p := u.Probe(key)
		if p.Group != "" && seen[p.Group] {
			continue
		}
		seen[p.Group] = true
		writeProbe(&b, p, acl)
	}
	return b.String()
}

func writeProbe(b *strings.Builder, p sample.PatProbe, acl bool) {
	fmt.Fprintf(b, "type=%s, case=%s, ", p.Match, map[bool]string{false: "sensitive", true: "insensitive"}[p.Fold])
	word := "found"
	if acl {
		word = "match"
	}
	if !p.Found {
		fmt.Fprintf(b, "%s=no\n", word)
		return
	}
	idx := "list"
	if p.Tree {
		idx = "tree"
	}
	if acl {
		fmt.Fprintf(b, "match=yes, idx=%s, pattern=\"%s\"\n", idx, p.Key)
		return
	}
	fmt.Fprintf(b, "found=yes, idx=%s, key=\"%s\", ", idx, p.Key)
	if !p.HasValue {
		b.WriteString("value=none\n")
		return
	}
	fmt.Fprintf(b, "value=\"%s\", type=\"%s\"\n", p.Value, p.VType)
}

// runVersion runs prepare and commit, and show, add and clear with @VER.
func (s *Server) runVersion(r *sample.PatRef, cmd Command) (string, bool) {
	if cmd.Ver == "" && cmd.Op != OpPrepareMap && cmd.Op != OpPrepareACL {
		return "", false
	}
	ver64, _ := strconv.ParseUint(strings.TrimPrefix(cmd.Ver, "@"), 10, 32) // HAProxy reads "@x" as 0
	ver := uint32(ver64)
	var err error
	switch cmd.Op {
	case OpPrepareMap, OpPrepareACL:
		v := r.Prepare()
		s.log.Info("admin: map or acl version prepared", "file", r.File, "version", v)
		return fmt.Sprintf("New version created: %d\n", v), true
	case OpShowMap, OpShowACL:
		return showEntries(r, r.EntriesAt(ver)), true
	case OpAddMap, OpAddACL:
		es, perr := payloadEntries(r, cmd)
		if perr != nil {
			return perr.Error() + "\n", true
		}
		future, aerr := r.AddVersion(ver, es...)
		if future {
			what := map[bool]string{false: "map", true: "acl"}[cmd.Op == OpAddACL]
			return "Version number in the future, please use 'prepare " + what + "' before.\n", true
		}
		err = aerr
	case OpClearMap, OpClearACL:
		err = r.ClearVersion(ver)
	case OpCommitMap, OpCommitACL:
		err = r.Commit(ver)
	}
	if err != nil {
		return err.Error() + "\n", true
	}
	s.log.Info("admin: map or acl changed", "file", r.File, "op", opWord(cmd.Op), "version", ver)
	return "", true
}

// fields splits a command into words on blanks, as HAProxy's CLI: a
// backslash escapes the next character, so `add acl FILE Mon\ User\ Agent`
// adds one pattern with blanks (HAProxy's reg-test acl_cli_spaces).
func fields(line string) []string {
	var w []string
	var cur strings.Builder
	in, esc := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case esc:
			cur.WriteByte(c)
			esc, in = false, true
		case c == '\\':
			esc, in = true, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if in {
				w = append(w, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		w = append(w, cur.String())
	}
	return w
}
