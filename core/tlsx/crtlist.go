package tlsx

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// CrtLine is one line of a crt-list file:
//
//	FILE [[OPTION ...]] [[!]SNIFILTER ...]
type CrtLine struct {
	Line     int
	File     string
	Opts     LineOpts
	Filters  []string // SNI filters (lower case; "*.x" wildcards)
	Excluded []string // !filters
}

// LineOpts are the per-line options varde builds; an option it does not
// build is an error (nothing is silently ignored).
type LineOpts struct {
	Set          bool // any option present: the line gets its own settings
	ALPN         []string
	Versions     Versions
	Verify       string
	CAFile       string
	CRLFile      string
	Ciphers      string
	CipherSuites string
	Curves       string
}

// lineOptArg lists the per-line options varde builds.
var lineOptArg = map[string]bool{"alpn": true, "ssl-min-ver": true, "ssl-max-ver": true, "verify": true,
	"ca-file": true, "crl-file": true, "ciphers": true, "ciphersuites": true, "curves": true, "ecdhe": true,
	"no-tlsv10": false, "no-tlsv11": false, "no-tlsv12": false, "no-tlsv13": false}

// ParseCrtLine parses one crt-list line; ok is false for a blank or
// comment line.
func ParseCrtLine(text string) (l CrtLine, ok bool, err error) {
	text = strings.TrimSpace(text)
	if text == "" || text[0] == '#' {
		return l, false, nil
	}
	w := strings.Fields(text)
	l.File = w[0]
	rest := w[1:]
	if len(rest) > 0 && strings.HasPrefix(rest[0], "[") {
		end := -1
		for i, t := range rest {
			if strings.HasSuffix(t, "]") {
				end = i
				break
			}
		}
		if end < 0 {
			return l, true, fmt.Errorf("missing ']' after the options")
		}
		inner := strings.Join(rest[:end+1], " ")
		inner = strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]")
		if strings.ContainsAny(inner, "[]") {
			return l, true, fmt.Errorf("nested brackets in the options")
		}
		if err := l.Opts.parse(strings.Fields(inner)); err != nil {
			return l, true, err
		}
		rest = rest[end+1:]
	}
	for _, f := range rest {
		neg := strings.HasPrefix(f, "!")
		f = strings.ToLower(strings.TrimPrefix(f, "!"))
		if f == "" || strings.ContainsAny(f, "[]!") || (strings.Contains(f, "*") && !strings.HasPrefix(f, "*.")) {
			return l, true, fmt.Errorf("invalid SNI filter %q", f)
		}
		if neg {
			l.Excluded = append(l.Excluded, f)
		} else {
			l.Filters = append(l.Filters, f)
		}
	}
	return l, true, nil
}

func (o *LineOpts) parse(w []string) error {
	for i := 0; i < len(w); i++ {
		name := w[i]
		takes, ok := lineOptArg[name]
		if !ok {
			return fmt.Errorf("crt-list option %q is not supported by varde (supported: alpn, ssl-min-ver, ssl-max-ver, no-tlsv1x, verify, ca-file, crl-file, ciphers, ciphersuites, curves, ecdhe)", name)
		}
		arg := ""
		if takes {
			if i+1 >= len(w) {
				return fmt.Errorf("crt-list option %s needs a value", name)
			}
			i++
			arg = w[i]
		}
		o.Set = true
		if known, err := o.Versions.Option(name, arg); known {
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if err := o.set(name, arg); err != nil {
			return err
		}
	}
	return nil
}

func (o *LineOpts) set(name, arg string) error {
	switch name {
	case "alpn":
		o.ALPN = strings.Split(arg, ",")
	case "verify":
		if arg != "none" && arg != "optional" && arg != "required" {
			return fmt.Errorf("verify %q: want none, optional or required", arg)
		}
		o.Verify = arg
	case "ca-file":
		o.CAFile = arg
	case "crl-file":
		o.CRLFile = arg
	case "ciphers":
		if _, err := ParseCiphers(arg); err != nil {
			return err
		}
		o.Ciphers = arg
	case "ciphersuites":
		if err := CheckCipherSuites(arg); err != nil {
			return err
		}
		o.CipherSuites = arg
	case "curves", "ecdhe":
		if _, err := ParseCurves(arg); err != nil {
			return err
		}
		if name == "curves" || o.Curves == "" {
			o.Curves = arg // curves wins over ecdhe
		}
	}
	return nil
}

// ReadCrtList reads a crt-list file; errors name FILE:LINE.
func ReadCrtList(path string) ([]CrtLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crt-list %s: %w", path, err)
	}
	var out []CrtLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		l, ok, err := ParseCrtLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("crt-list %s:%d: %w", path, n, err)
		}
		if ok {
			l.Line = n
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("crt-list %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("crt-list %s: no certificate listed", path)
	}
	return out, nil
}
