package config

import (
	"path/filepath"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sample"
)

// HAProxy's `default-path current|config|parent|origin DIR`: HAProxy
// changes to that directory while it parses, so every file a line names
// with a relative path (errorfile, return file, lua-load, crt, ca-file,
// crl-file, crt-list, crt-base, ca-base, acl -f, map files) is read from
// there; what it opens after parsing (stats socket, pidfile, log files,
// server-state-file) stays relative to the directory it started in.
//
// varde decides in one place, parser.path (and PatRefs for map and ACL
// files, given Global.DefaultPathDir): a relative name is joined to the
// directory. It builds one directory for the whole configuration: a
// second default-path naming another directory, a default-path after a
// relative file name was read, or `config`/`parent` over files in several
// directories, are refused rather than read from the wrong place.

// defaultPath is the parser's default-path state.
type defaultPath struct {
	mode, origin string   // the directive's mode and origin directory
	dir          string   // the directory in force ("" = where varde starts)
	pos          diag.Pos // the directive
	usedRel      diag.Pos // the first relative name resolved, zero when none
}

// path is the one place a relative file name of a configuration line is
// resolved: joined to the default-path directory, if any.
func (p *parser) path(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	if p.dp.usedRel.File == "" {
		p.dp.usedRel = diag.Pos{File: p.curFile, Line: -1}
	}
	if p.dp.dir == "" {
		return name
	}
	return filepath.Join(p.dp.dir, name)
}

// setDefaultPath applies a default-path line.
func (p *parser) setDefaultPath(mode, origin string, pos diag.Pos) {
	dir := ""
	if mode != "current" {
		dir = absDir(defaultPathDir(mode, pos.File, origin))
	}
	switch {
	case p.dp.pos.File != "" && dir != p.dp.dir:
		p.d.Errorf(pos, "default-path", "keep one default-path line", "a second default-path naming another directory (%s, line %s named %s) is not built yet: varde applies one directory to the whole configuration", orDot(dir), p.dp.pos, orDot(p.dp.dir))
		return
	case p.dp.usedRel.File != "" && dir != "":
		p.d.Errorf(pos, "default-path", "move default-path to the top of the global section", "default-path after a relative file name is not built yet: varde applies one directory to the whole configuration, and an earlier line already named a file from the directory varde starts in")
		return
	}
	p.dp = defaultPath{mode: mode, origin: origin, dir: dir, pos: pos, usedRel: p.dp.usedRel}
	p.cfg.Global.DefaultPathDir = dir
}

// defaultPathNextFile re-applies a config/parent default-path for the next
// -f file, as HAProxy does; another directory is refused.
func (p *parser) defaultPathNextFile(file string) {
	if p.dp.mode != "config" && p.dp.mode != "parent" {
		return
	}
	if dir := absDir(defaultPathDir(p.dp.mode, file, "")); dir != p.dp.dir {
		p.d.Errorf(p.dp.pos, "default-path", "put the files in one directory, or use default-path origin DIR", "default-path %s over files in several directories (%s for %s) is not built yet: varde applies one directory to the whole configuration", p.dp.mode, dir, file)
	}
}

// defaultPathDir is the directory HAProxy changes to under mode m for the
// configuration file file.
func defaultPathDir(m, file, origin string) string {
	switch m {
	case "config":
		return filepath.Dir(file)
	case "parent":
		return filepath.Join(filepath.Dir(file), "..")
	case "origin":
		return origin
	}
	return ""
}

// finishDefaultPath makes crt-list entries and their CA files follow the
// directory too: with no crt-base (ca-base) HAProxy reads them from the
// directory it is in, which is what a base of that directory says.
func (p *parser) finishDefaultPath() {
	g := &p.cfg.Global
	if p.dp.dir == "" {
		return
	}
	if g.CRTBase == "" {
		g.CRTBase = p.dp.dir
	}
	if g.CABase == "" {
		g.CABase = p.dp.dir
	}
}

func orDot(dir string) string {
	if dir == "" {
		return "the start directory"
	}
	return dir
}

// withPatDir runs fn (which may read acl -f files while the line is
// parsed) with the map and ACL files read from the default-path directory.
func (p *parser) withPatDir(fn func()) {
	if p.dp.dir == "" || sample.CurrentPatRefs() != nil {
		fn()
		return
	}
	refs := sample.NewPatRefs()
	refs.Dir = p.dp.dir
	sample.WithPatRefs(refs, fn)
}

// absDir makes dir absolute from the directory varde starts in (HAProxy's
// chdir to a relative directory starts there too), so that no later join
// (crt-base at preparation) applies to a resolved name again.
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
