package config

import "github.com/varde-lb/varde/core/diag"

// Compression is a proxy's `compression` lines with HAProxy 2.6's meaning
// (src/flt_http_comp.c, src/compression.c).
//
// Algos and Types are kept in HAProxy's list order: each new word is put
// IN FRONT (comp_append_algo/comp_append_type prepend), and a proxy's own
// words go in front of those inherited from defaults. The order matters:
// "Accept-Encoding: *" takes the first algorithm of this list, i.e. the
// last one written.
type Compression struct {
	Pos     diag.Pos `json:"-"`
	Algos   []string `json:"algos,omitempty"` // identity, gzip, deflate, raw-deflate
	Types   []string `json:"types,omitempty"` // Content-Type prefixes (case-insensitive)
	Offload bool     `json:"offload,omitempty"`
	// Filter is set by an explicit `filter compression` line.
	Filter bool `json:"filter,omitempty"`
}

// CompressionAlgos are the algorithm names `compression algo` accepts.
var CompressionAlgos = []string{"identity", "gzip", "deflate", "raw-deflate"}

// inheritCompression is what a proxy gets from its defaults section:
// HAProxy copies the algorithm and type lists, not offload (proxy.c
// proxy_defproxy_cpy), which its parser says is ignored in defaults.
func inheritCompression(def *Compression) *Compression {
	if def == nil {
		return nil
	}
	return &Compression{
		Pos:   def.Pos,
		Algos: append([]string(nil), def.Algos...),
		Types: append([]string(nil), def.Types...),
	}
}

// parseCompression reads `compression algo|type|offload ...` and
// `filter compression`.
func (p *parser) parseCompression(l Line, key string, words []Token) {
	px := p.cur
	if px.Compression == nil {
		px.Compression = &Compression{Pos: l.Pos}
	}
	c := px.Compression
	args := words[2:]
	switch key {
	case "filter compression":
		if c.Filter {
			p.d.Errorf(words[0].Pos, key, "keep one `filter compression` line", "%s: proxy supports only one compression filter", px.Name)
			return
		}
		if len(args) > 0 {
			p.d.Errorf(args[0].Pos, key, "filter compression", "filter compression takes no argument")
			return
		}
		c.Filter = true
	case "compression algo":
		if len(args) == 0 {
			p.d.Errorf(words[1].Pos, key, "compression algo gzip|deflate|raw-deflate|identity ...", "compression algo expects <algorithm>")
			return
		}
		for _, a := range args {
			if !contains(CompressionAlgos, a.Text) {
				p.d.Errorf(a.Pos, key, "one of identity, gzip, deflate, raw-deflate", "%q is not a supported algorithm", a.Text)
				return
			}
			c.Algos = append([]string{a.Text}, c.Algos...)
		}
	case "compression type":
		if len(args) == 0 {
			p.d.Errorf(words[1].Pos, key, "compression type MIME-PREFIX ...", "compression type expects <type>")
			return
		}
		for _, a := range args {
			c.Types = append([]string{a.Text}, c.Types...)
		}
	case "compression offload":
		if len(args) > 0 {
			p.d.Errorf(args[0].Pos, key, "compression offload", "compression offload takes no argument")
			return
		}
		if px.Kind == KindDefaults {
			// HAProxy 2.6 says the same and does not pass it on.
			p.d.Warnf(words[1].Pos, key, "write it in the frontend or backend", "'compression offload' ignored in 'defaults' section")
			return
		}
		c.Offload = true
	}
}
