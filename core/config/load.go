package config

import (
	"fmt"
	"os"
	"regexp"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// Syntax is the configuration language of a file.
type Syntax int

const (
	SyntaxHAProxy Syntax = iota
	SyntaxKeepalived
)

func (s Syntax) String() string {
	if s == SyntaxKeepalived {
		return "keepalived"
	}
	return "haproxy"
}

func (s Syntax) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// keepalivedBlock matches the opening of a keepalived.conf block such as
// `vrrp_instance VI_1 {` or `global_defs {` at the start of a line.
// `include FILE` (keepalived's, haproxy.cfg has no such keyword) counts too,
// so a keepalived.conf made only of includes is recognised.
var keepalivedBlock = regexp.MustCompile(`(?m)^[ \t]*((global_defs|vrrp_instance|vrrp_script|vrrp_sync_group|virtual_server|virtual_server_group|static_ipaddress|static_routes|track_file|linkbeat_interfaces|vrrp_track_process|track_process|bfd_instance)\b[^#\n]*\{|include[ \t]+[^ \t\n#])`)

// haproxySection matches a haproxy.cfg section header.
var haproxySection = regexp.MustCompile(`(?m)^[ \t]*(global|defaults|frontend|backend|listen)([ \t]|$)`)

// Detect tells the two syntaxes apart by content: keepalived.conf is made of
// brace blocks, haproxy.cfg of section headers. When both or neither match,
// the first that appears wins, haproxy by default.
func Detect(src []byte) Syntax {
	k := keepalivedBlock.FindIndex(src)
	h := haproxySection.FindIndex(src)
	switch {
	case k == nil:
		return SyntaxHAProxy
	case h == nil:
		return SyntaxKeepalived
	case k[0] < h[0]:
		return SyntaxKeepalived
	}
	return SyntaxHAProxy
}

// FileInfo describes one loaded file.
type FileInfo struct {
	Path   string `json:"path"`
	Syntax Syntax `json:"syntax"`
}

// Set is everything varde reads from its -f files.
type Set struct {
	HAProxy    *Config            `json:"haproxy"`
	Keepalived *keepalived.Config `json:"keepalived,omitempty"`
	Files      []FileInfo         `json:"files"`
}

// LoadFiles reads every file in order, detects its syntax, merges the
// haproxy.cfg files (as HAProxy does with several -f) and the keepalived.conf
// files, and validates the result. env looks up ${VAR} (nil: os.Getenv is
// not consulted, no variable is set). The Set is returned even when the
// diagnostics hold errors, so callers can report everything.
func LoadFiles(paths []string, env func(string) string) (*Set, *diag.List) {
	return LoadFilesWith(paths, env, LoadOptions{})
}

// LoadOptions are the command line's say in how files are read.
type LoadOptions struct {
	// LocalPeer is -L NAME: this node's name in peers sections (default:
	// the global localpeer, else the host name).
	LocalPeer string
}

// LoadFilesWith is LoadFiles with command-line options.
func LoadFilesWith(paths []string, env func(string) string, o LoadOptions) (*Set, *diag.List) {
	d := &diag.List{}
	set := &Set{}
	p := newParser(d)
	p.localPeer, p.localPeerCmdline = o.LocalPeer, o.LocalPeer != ""
	sawHAProxy := false
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			d.Errorf(diag.Pos{File: path}, "", "check the path given with -f", "%v", unwrapPathErr(err))
			continue
		}
		syn := Detect(src)
		set.Files = append(set.Files, FileInfo{Path: path, Syntax: syn})
		if syn == SyntaxKeepalived {
			kc := keepalived.Parse(path, src, d)
			if set.Keepalived == nil {
				set.Keepalived = kc
			} else if kc != nil {
				set.Keepalived.Merge(kc)
			}
			continue
		}
		sawHAProxy = true
		p.parseFile(path, src, env)
	}
	p.finish()
	if sawHAProxy || set.Keepalived == nil {
		set.HAProxy = p.cfg
	}
	if set.HAProxy != nil {
		set.HAProxy.Validate(d)
	}
	if set.Keepalived != nil {
		set.Keepalived.Validate(d)
	}
	return set, d
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("cannot read file: %v", pe.Err)
	}
	return err
}
