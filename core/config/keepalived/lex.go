// Package keepalived reads keepalived.conf: brace blocks, `#`/`!` comments,
// `include`, and the VRRP subset varde implements (global_defs, vrrp_script,
// vrrp_instance). Parsing fills a typed, JSON-serialisable Config and records
// every problem in a diag.List instead of stopping at the first one.
package keepalived

import (
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// node is one statement of keepalived.conf: a keyword, its arguments and,
// for blocks (`vrrp_instance VI_1 { ... }`), its children.
type node struct {
	pos      diag.Pos
	keyword  string
	args     []string
	block    bool
	children []*node
}

type token struct {
	text   string
	line   int
	quoted bool
}

// tokenize splits one line the way keepalived does: whitespace separates
// words, double quotes group them, `#` and `!` start a comment anywhere outside
// quotes, and braces are words of their own even when glued to a neighbour.
func tokenize(line string, n int) []token {
	var out []token
	var cur strings.Builder
	inWord, quoted, inQuote := false, false, false
	flush := func() {
		if inWord {
			out = append(out, token{text: cur.String(), line: n, quoted: quoted})
		}
		cur.Reset()
		inWord, quoted = false, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inQuote {
			if c == '"' {
				inQuote = false
				continue
			}
			cur.WriteByte(c)
			continue
		}
		switch c {
		case '"':
			inQuote, inWord, quoted = true, true, true
		case '#', '!':
			flush()
			return out
		case ' ', '\t', '\r', '\v', '\f':
			flush()
		case '{', '}':
			flush()
			out = append(out, token{text: string(c), line: n})
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// parseTree builds the statement tree of one file. Unbalanced braces are
// reported; the tree is still returned so later stages can report more.
func parseTree(file string, src []byte, d *diag.List) []*node {
	root := &node{block: true}
	stack := []*node{root}
	var cur *node  // statement being filled on the current line
	var last *node // last finished statement, for `{` on the next line
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		ln := i + 1
		for _, t := range tokenize(line, ln) {
			top := stack[len(stack)-1]
			switch {
			case t.text == "{" && !t.quoted:
				target := cur
				if target == nil && last != nil && !last.block && last.pos.Line == ln-1 {
					target = last // `vrrp_instance VI_1` then `{` alone on the next line
				}
				if target == nil {
					d.Errorf(diag.Pos{File: file, Line: ln}, "{", "put the block name before the brace", "block opened without a keyword")
					target = &node{pos: diag.Pos{File: file, Line: ln}}
					top.children = append(top.children, target)
				}
				target.block = true
				stack = append(stack, target)
				cur, last = nil, nil
			case t.text == "}" && !t.quoted:
				cur, last = nil, nil
				if len(stack) == 1 {
					d.Errorf(diag.Pos{File: file, Line: ln}, "}", "remove it or add the matching opening brace", "unmatched closing brace")
					continue
				}
				stack = stack[:len(stack)-1]
			default:
				if cur == nil {
					cur = &node{pos: diag.Pos{File: file, Line: ln}, keyword: t.text}
					top.children = append(top.children, cur)
					continue
				}
				cur.args = append(cur.args, t.text)
			}
		}
		if cur != nil {
			last = cur
		}
		cur = nil
	}
	for i := len(stack) - 1; i > 0; i-- {
		n := stack[i]
		d.Errorf(n.pos, n.keyword, "add a closing brace '}'", "block is never closed")
	}
	return root.children
}
