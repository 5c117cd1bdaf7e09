package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Options are a bind line's TLS settings, with the global defaults already
// merged and the paths resolved (crt-base, ca-base).
type Options struct {
	Crts         []string // files or directories, in order
	CrtLists     []string
	ALPN         []string
	Versions     Versions
	Ciphers      string // OpenSSL string; "" = Go's defaults
	CipherSuites string // TLS 1.3; "" or exactly Go's set
	Curves       string // OpenSSL group list (curves, or ecdhe's one curve); "" = Go's defaults
	Verify       string // none (default), optional, required
	CAFile       string
	CRLFile      string
	StrictSNI    bool
	NoTickets    bool
	// CrtBase resolves the relative certificate paths of crt-list lines,
	// CABase their ca-file and crl-file.
	CrtBase, CABase string
}

// entry is one certificate of a bind with what selects it.
type entry struct {
	slot     *Slot
	filters  []string // from the crt-list line; empty: the certificate's names
	excluded []string
	cfg      *tls.Config // a crt-list line's own settings, or nil
}

// names are the SNI names the entry answers for.
func (e *entry) names() []string {
	src := e.filters
	if len(src) == 0 {
		src = e.slot.Cert().Names
	}
	var out []string
	for _, n := range src {
		if !slices.Contains(e.excluded, n) {
			out = append(out, n)
		}
	}
	return out
}

// index is a bind's SNI table, rebuilt when a certificate is replaced.
type index struct {
	exact map[string][]*entry
	wild  map[string][]*entry // "*.example.com" under "example.com"
	def   *entry
}

// Bind is the TLS side of one bind line.
type Bind struct {
	reg     *Registry
	base    *tls.Config
	entries []*entry
	idx     atomic.Pointer[index]
	strict  bool
	configs []*tls.Config // base and every per-line config (ticket keys)
}

// Config is the tls.Config to hand to tls.Server.
func (b *Bind) Config() *tls.Config { return b.base }

// ALPN is the bind's advertised protocol list.
func (b *Bind) ALPN() []string { return b.base.NextProtos }

// AllALPN lists every protocol the bind or one of its crt-list lines
// advertises.
func (b *Bind) AllALPN() []string {
	var out []string
	for _, c := range b.configs {
		for _, p := range c.NextProtos {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func (b *Bind) reindex() {
	ix := &index{exact: map[string][]*entry{}, wild: map[string][]*entry{}}
	for _, e := range b.entries {
		if ix.def == nil {
			ix.def = e
		}
		for _, n := range e.names() {
			if strings.HasPrefix(n, "*.") {
				ix.wild[n[2:]] = append(ix.wild[n[2:]], e)
			} else {
				ix.exact[n] = append(ix.exact[n], e)
			}
		}
	}
	b.idx.Store(ix)
}

// errNoCert ends a handshake strict-sni refuses.
var errNoCert = errors.New("tls: no certificate for the requested server name (strict-sni)")

// pick chooses the entry for a ClientHello: exact name, then wildcard,
// then the default (unless strict-sni). Among several certificates for a
// name (RSA and ECDSA), the first the client supports wins.
func (b *Bind) pick(hello *tls.ClientHelloInfo) *entry {
	ix := b.idx.Load()
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	cands := ix.exact[name]
	if len(cands) == 0 {
		if i := strings.IndexByte(name, '.'); i > 0 {
			// A !name filter also keeps the line's wildcard from
			// answering it (HAProxy: "*.example.org !secure.example.org").
			for _, e := range ix.wild[name[i+1:]] {
				if !slices.Contains(e.excluded, name) {
					cands = append(cands, e)
				}
			}
		}
	}
	for _, e := range cands {
		if hello.SupportsCertificate(e.slot.Cert().TLS) == nil {
			return e
		}
	}
	if len(cands) > 0 {
		return cands[0]
	}
	if b.strict {
		return nil
	}
	return ix.def
}

func (b *Bind) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	e := b.pick(hello)
	if e == nil {
		return nil, errNoCert
	}
	return e.slot.Cert().TLS, nil
}

func (b *Bind) getConfigForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	e := b.pick(hello)
	if e == nil {
		return nil, errNoCert
	}
	return e.cfg, nil // nil: the bind's own settings
}

// Build loads a bind's certificates and builds its tls.Config. Files are
// shared through reg, so that a runtime replacement reaches every bind.
func (reg *Registry) Build(o *Options) (*Bind, error) {
	base, err := baseConfig(o)
	if err != nil {
		return nil, err
	}
	b := &Bind{reg: reg, base: base, strict: o.StrictSNI, configs: []*tls.Config{base}}
	for _, c := range o.Crts {
		files, err := ExpandCrt(c)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			s, err := reg.slot(f)
			if err != nil {
				return nil, err
			}
			b.entries = append(b.entries, &entry{slot: s})
		}
	}
	for _, l := range o.CrtLists {
		if err := b.addList(o, l); err != nil {
			return nil, err
		}
	}
	if len(b.entries) == 0 {
		return nil, fmt.Errorf("ssl without a certificate: add crt FILE")
	}
	base.GetCertificate = b.getCertificate
	base.GetConfigForClient = b.getConfigForClient
	b.reindex()
	reg.add(b)
	return b, nil
}

// addList loads a crt-list: each line a certificate, with its own settings
// when it has options.
func (b *Bind) addList(o *Options, path string) error {
	lines, err := ReadCrtList(path)
	if err != nil {
		return err
	}
	for _, l := range lines {
		file := resolve(o.CrtBase, l.File)
		s, err := b.reg.slot(file)
		if err != nil {
			return fmt.Errorf("crt-list %s:%d: %w", path, l.Line, err)
		}
		e := &entry{slot: s, filters: l.Filters, excluded: l.Excluded}
		if l.Opts.Set {
			cfg, err := lineConfig(o, &l.Opts)
			if err != nil {
				return fmt.Errorf("crt-list %s:%d: %w", path, l.Line, err)
			}
			slot := s
			cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return slot.Cert().TLS, nil }
			e.cfg = cfg
			b.configs = append(b.configs, cfg)
		}
		b.entries = append(b.entries, e)
	}
	return nil
}

// lineConfig is a bind's settings overridden by a crt-list line's options.
func lineConfig(o *Options, l *LineOpts) (*tls.Config, error) {
	lo := *o
	if l.ALPN != nil {
		lo.ALPN = l.ALPN
	}
	lo.Versions = l.Versions.Merge(o.Versions)
	if l.Verify != "" {
		lo.Verify = l.Verify
	}
	if l.CAFile != "" {
		lo.CAFile = resolve(o.CABase, l.CAFile)
	}
	if l.CRLFile != "" {
		lo.CRLFile = resolve(o.CABase, l.CRLFile)
	}
	if l.Ciphers != "" {
		lo.Ciphers = l.Ciphers
	}
	if l.CipherSuites != "" {
		lo.CipherSuites = l.CipherSuites
	}
	if l.Curves != "" {
		lo.Curves = l.Curves
	}
	return baseConfig(&lo)
}

func resolve(base, p string) string {
	if base == "" || p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// baseConfig maps the options to a tls.Config (no certificate yet).
func baseConfig(o *Options) (*tls.Config, error) {
	lo, hi, err := o.Versions.Range()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: lo, MaxVersion: hi, NextProtos: o.ALPN, SessionTicketsDisabled: o.NoTickets}
	if o.Ciphers != "" {
		if cfg.CipherSuites, err = ParseCiphers(o.Ciphers); err != nil {
			return nil, err
		}
	}
	if o.CipherSuites != "" {
		if err := CheckCipherSuites(o.CipherSuites); err != nil {
			return nil, err
		}
	}
	if o.Curves != "" {
		if cfg.CurvePreferences, err = ParseCurves(o.Curves); err != nil {
			return nil, err
		}
	}
	if err := clientAuth(cfg, o); err != nil {
		return nil, err
	}
	return cfg, nil
}

// clientAuth sets verify, ca-file and crl-file.
func clientAuth(cfg *tls.Config, o *Options) error {
	switch o.Verify {
	case "", "none":
		cfg.ClientAuth = tls.NoClientCert
		if o.CRLFile != "" && o.CAFile == "" {
			return fmt.Errorf("crl-file without ca-file and verify")
		}
		return nil
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return fmt.Errorf("verify %q: want none, optional or required", o.Verify)
	}
	if o.CAFile == "" {
		return fmt.Errorf("verify %s needs ca-file: the client certificates would be checked against nothing", o.Verify)
	}
	pool, err := loadCAs(o.CAFile)
	if err != nil {
		return err
	}
	cfg.ClientCAs = pool
	if o.CRLFile != "" {
		crls, err := loadCRLs(o.CRLFile)
		if err != nil {
			return err
		}
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return checkCRLs(cs, crls) }
	}
	return nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca-file %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("ca-file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// Registry is the set of certificate files of one engine (one generation):
// the slots the admin socket replaces and the binds that use them.
type Registry struct {
	mu      sync.Mutex
	slots   map[string]*Slot
	order   []string
	binds   []*Bind
	tickets *tickets
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{slots: map[string]*Slot{}} }

func (reg *Registry) slot(path string) (*Slot, error) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if s := reg.slots[path]; s != nil {
		return s, nil
	}
	c, err := LoadCert(path)
	if err != nil {
		return nil, err
	}
	s := &Slot{Path: path}
	s.cur.Store(c)
	reg.slots[path] = s
	reg.order = append(reg.order, path)
	return s, nil
}

func (reg *Registry) add(b *Bind) {
	reg.mu.Lock()
	reg.binds = append(reg.binds, b)
	reg.mu.Unlock()
}

// Files lists the loaded certificate files in load order.
func (reg *Registry) Files() []string {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return slices.Clone(reg.order)
}

// Lookup returns the slot of a loaded file, or nil.
func (reg *Registry) Lookup(path string) *Slot {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return reg.slots[path]
}

// Replace installs a new certificate for a loaded file: every bind using it
// serves it from its next handshake (the SNI tables are rebuilt, since the
// names may have changed).
func (reg *Registry) Replace(path string, c *Cert) error {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	s := reg.slots[path]
	if s == nil {
		return fmt.Errorf("unknown certificate %s", path)
	}
	s.cur.Store(c)
	for _, b := range reg.binds {
		b.reindex()
	}
	return nil
}
