package config

import (
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Cache is a `cache NAME` section (HAProxy 2.6 §6): a small object cache in
// RAM that `http-request cache-use NAME` answers from and `http-response
// cache-store NAME` fills. Defaults and limits are HAProxy's
// (cfg_parse_cache and cfg_post_parse_section_cache in src/cache.c).
type Cache struct {
	Pos  diag.Pos `json:"pos"`
	Name string   `json:"name"`
	// TotalMaxSize is total-max-size in megabytes (mandatory, 1..4095).
	TotalMaxSize int `json:"total_max_size"`
	// MaxObjectSize is max-object-size in bytes; 0 in the file means a
	// 256th of the cache, which Finish sets.
	MaxObjectSize int `json:"max_object_size"`
	// MaxAge is max-age in seconds (default 60): no object is kept longer.
	MaxAge int `json:"max_age"`
	// ProcessVary is process-vary on: responses with `Vary:
	// accept-encoding` and/or `referer` are kept per request variant;
	// off (the default) never stores a response with a Vary header.
	ProcessVary bool `json:"process_vary,omitempty"`
	// MaxSecondaryEntries bounds the variants of one key (default 10).
	MaxSecondaryEntries int `json:"max_secondary_entries"`
}

// CacheBlockSize is HAProxy's cache block: memory is counted in 1 kB blocks.
const CacheBlockSize = 1024

// cacheNameMax is the length HAProxy truncates a cache name to.
const cacheNameMax = 32

func init() {
	registerRuleParser(parseCacheRule, "cache-use", "cache-store")
}

// CacheNamed returns the cache section named name, or nil.
func (c *Config) CacheNamed(name string) *Cache {
	for _, k := range c.Caches {
		if k.Name == name {
			return k
		}
	}
	return nil
}

func (p *parser) startCache(l Line) {
	p.section, p.cur = "cache", nil
	p.use("cache", l.Pos)
	args := l.Args(1)
	if len(args) == 0 {
		p.d.Errorf(l.Pos, "cache", "cache NAME", "'cache' expects a <name> argument")
		p.section = "skip"
		return
	}
	if len(args) > 1 {
		p.d.Errorf(args[1].Pos, "cache", "cache NAME", "'cache' cannot handle unexpected argument %q", args[1].Text)
		p.section = "skip"
		return
	}
	name := args[0].Text
	if len(name) > cacheNameMax {
		name = name[:cacheNameMax]
		p.d.Warnf(args[0].Pos, "cache", "shorten the name", "cache name is limited to 32 characters, truncate to '%s' (as HAProxy)", name)
	}
	if p.cfg.CacheNamed(name) != nil {
		p.d.Errorf(args[0].Pos, "cache", "rename one of them", "duplicate cache name '%s'", name)
		p.section = "skip"
		return
	}
	p.cfg.Caches = append(p.cfg.Caches, &Cache{Pos: l.Pos, Name: name, MaxAge: 60, MaxSecondaryEntries: 10})
}

// cacheLine reads one line of a cache section.
func (p *parser) cacheLine(l Line) {
	c := p.cfg.Caches[len(p.cfg.Caches)-1]
	kw, args := l.Keyword(), l.Args(1)
	switch kw {
	case "total-max-size", "max-object-size", "max-age", "process-vary", "max-secondary-entries":
	default:
		p.d.Errorf(l.Pos, kw, "a cache section holds total-max-size, max-object-size, max-age, process-vary, max-secondary-entries", "unknown keyword '%s' in 'cache' section", kw)
		return
	}
	p.use(kw, l.Pos)
	if len(args) > 1 {
		p.d.Errorf(args[1].Pos, kw, kw+" VALUE", "'%s' cannot handle unexpected argument %q", kw, args[1].Text)
		return
	}
	if len(args) == 0 {
		p.d.Errorf(l.Pos, kw, kw+" VALUE", "'%s' expects a value", kw)
		return
	}
	v := args[0]
	switch kw {
	case "total-max-size":
		if n, ok := p.cacheUint(v, kw, 4095); ok {
			c.TotalMaxSize = n
		}
	case "max-object-size":
		if n, ok := p.cacheUint(v, kw, 1<<32-1); ok {
			c.MaxObjectSize = n
		}
	case "max-age":
		c.MaxAge = p.cacheAtoi(v, kw)
	case "process-vary":
		switch v.Text {
		case "on":
			c.ProcessVary = true
		case "off":
			c.ProcessVary = false
		default:
			// HAProxy warns and keeps the previous setting.
			p.d.Warnf(v.Pos, kw, "process-vary on|off", "'process-vary' expects \"on\" or \"off\"; %q ignored (as HAProxy)", v.Text)
		}
	case "max-secondary-entries":
		if n, ok := p.cacheUint(v, kw, 1<<32-1); ok {
			if n == 0 {
				p.d.Errorf(v.Pos, kw, "a number of at least 1", "max-secondary-entries wrong value '0'")
				return
			}
			c.MaxSecondaryEntries = n
		}
	}
}

// cacheAtoi reads max-age as HAProxy does, with atoi into an unsigned
// int: leading digits only ("10s" is 10, "abc" is 0), a negative value
// wraps around (-5 is 4294967291 seconds). Anything but a plain number is
// accepted, as HAProxy accepts it, with a warning saying what was read.
func (p *parser) cacheAtoi(t Token, kw string) int {
	txt := t.Text
	neg := strings.HasPrefix(txt, "-")
	digits := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(txt, "-"), "+"), "0123456789")
	num := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(txt, "-"), "+"), digits)
	n, _ := strconv.ParseInt(num, 10, 64)
	n = min(n, 1<<31)
	if neg && n > 0 {
		n = 1<<32 - n
	}
	if plain, err := strconv.ParseInt(txt, 10, 64); err != nil || plain != n {
		p.d.Warnf(t.Pos, kw, kw+" SECONDS", "'%s %s' is read as %d seconds (as HAProxy's atoi reads it)", kw, txt, n)
	}
	return int(n)
}

// cacheUint reads a whole number 0..max (HAProxy refuses anything else
// for these keywords, with strtoul and a check of what follows).
func (p *parser) cacheUint(t Token, kw string, max int64) (int, bool) {
	n, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil || n < 0 {
		p.d.Errorf(t.Pos, kw, "a whole number", "%s wrong value '%s'", kw, t.Text)
		return 0, false
	}
	if n > max {
		p.d.Errorf(t.Pos, kw, "at most "+strconv.FormatInt(max, 10), "\"%s\" (%s) must not be greater than %d", kw, t.Text, max)
		return 0, false
	}
	return int(n), true
}

// finishCaches applies HAProxy's end-of-section checks (a size is
// mandatory; max-object-size defaults to a 256th of the cache and may not
// exceed half of it) and checks that every cache-use/cache-store names a
// declared cache.
func (p *parser) finishCaches() {
	for _, c := range p.cfg.Caches {
		total := c.TotalMaxSize * 1024 * 1024
		switch {
		case c.TotalMaxSize <= 0:
			p.d.Errorf(c.Pos, "total-max-size", "add total-max-size MEGABYTES to the section", "size not specified for cache '%s'", c.Name)
		case c.MaxObjectSize == 0:
			c.MaxObjectSize = total >> 8
		case c.MaxObjectSize > total/2:
			p.d.Errorf(c.Pos, "max-object-size", "lower max-object-size or raise total-max-size", "\"max-object-size\" is limited to an half of \"total-max-size\" => %d", total/2)
		}
	}
	check := func(px *Proxy, rules []*HTTPRule) {
		for _, r := range rules {
			if (r.Action == "cache-use" || r.Action == "cache-store") && p.cfg.CacheNamed(r.Name) == nil {
				key := "http-request cache-use"
				if r.Action == "cache-store" {
					key = "http-response cache-store"
				}
				p.d.Errorf(r.Pos, key, "declare `cache "+r.Name+"`", "%s '%s': unable to find the cache '%s' referenced by the filter 'cache'", px.Kind, px.Name, r.Name)
			}
		}
	}
	for _, px := range p.cfg.Proxies {
		check(px, px.HTTPRequest)
		check(px, px.HTTPResponse)
	}
}

// parseCacheRule reads `http-request cache-use NAME` and `http-response
// cache-store NAME`: one cache name (the condition is already split off).
func parseCacheRule(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if len(args) == 0 {
		p.d.Errorf(act.Pos, key, key+" NAME", "'%s' expects a cache name", key)
		return false
	}
	if len(args) > 1 {
		p.d.Errorf(args[1].Pos, key, key+" NAME [if|unless COND]", "unexpected %q after the cache name", args[1].Text)
		return false
	}
	r.Name = args[0].Text
	if len(r.Name) > cacheNameMax {
		r.Name = r.Name[:cacheNameMax] // as the section's name is
	}
	return true
}
