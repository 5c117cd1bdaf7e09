package admin

import (
	"errors"
	"strings"

	"github.com/varde-lb/varde/core/sticktable"
)

// Stick tables on the CLI, as HAProxy 2.6:
//
//	show table                                  one `# table:` line per table
//	show table NAME [key K | data.TYPE OP V ...] the entries (operator level)
//	clear table NAME [key K | data.TYPE OP V ...] removes unused entries (all without a filter, as HAProxy)
//	set table NAME key K data.TYPE V ...        creates or updates an entry

const (
	OpShowTable Op = 100 + iota
	OpClearTable
	OpSetTable
)

// parseTable reads show|clear|set table [NAME [ARGS...]].
func parseTable(w []string) (Command, error) {
	c := Command{Op: OpShowTable}
	switch w[0] {
	case "clear":
		c.Op = OpClearTable
	case "set":
		c.Op = OpSetTable
	}
	if len(w) >= 3 {
		c.Proxy = w[2]
	}
	if len(w) > 3 {
		c.Value = strings.Join(w[3:], " ")
	}
	switch {
	case c.Proxy == "" && c.Op != OpShowTable:
		return c, errors.New(tableUsage(c.Op))
	case c.Op == OpSetTable && (len(w) < 5 || w[3] != "key"):
		return c, errors.New(tableUsage(c.Op))
	}
	return c, nil
}

func tableUsage(op Op) string {
	switch op {
	case OpClearTable:
		return `Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>`
	case OpSetTable:
		return "Required arguments: <table> key <key> [data.<store_data_type> <value>]*"
	}
	return `Optional argument only supports "data.<store_data_type>" <operator> <value> and key <key>`
}

// tableLevel: showing needs user level (contents: operator), changing operator.
func tableLevel(op Op) Level {
	if op == OpShowTable {
		return LevelUser
	}
	return LevelOperator
}

// table runs a table command with HAProxy's output and messages.
func (s *Server) table(cmd Command, lvl Level) string {
	set := s.rt.Tables
	var b strings.Builder
	if cmd.Proxy == "" {
		for _, name := range set.Names() {
			set.Lookup(name).WriteHead(&b)
		}
		return b.String()
	}
	t := set.Lookup(cmd.Proxy)
	if t == nil {
		return "No such table\n"
	}
	words := strings.Fields(cmd.Value)
	switch cmd.Op {
	case OpSetTable:
		// The command parser splits only at blanks and tabs; a key made of
		// other white space (\f, \v) is no key here.
		if len(words) < 2 {
			return tableUsage(OpSetTable) + "\n"
		}
		k, err := t.ParseKey(words[1])
		if err != nil {
			return err.Error() + "\n"
		}
		if err := t.SetData(k, words[2:]); err != nil {
			return err.Error() + "\n"
		}
		return ""
	}
	q, err := t.ParseQuery(words)
	if err != nil {
		return err.Error() + "\n"
	}
	if cmd.Op == OpClearTable {
		if err := t.ClearMatching(q); err != nil {
			return err.Error() + "\n"
		}
		return ""
	}
	if lvl < LevelOperator {
		t.WriteHead(&b)
		b.WriteString("# contents not dumped due to insufficient privileges\n")
		return b.String()
	}
	if q.HasKey && t.Lookup(q.Key) == nil {
		return "" // HAProxy prints nothing for an absent key
	}
	t.Dump(&b, q)
	return b.String()
}

// tablesOf keeps the Runtime field's type in one place.
type tablesOf = *sticktable.Set
