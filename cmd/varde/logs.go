package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/logpipe"
)

func init() {
	register(&command{
		name:    "logs",
		summary: "audit log files for raw IP addresses, other personal data and retention, or anonymise old logs",
		usage:   "audit PATH... [--retention DUR] [--json FILE] [--pii CLASSES] [--params NAMES] | anonymize [--ip V4,V6 | --hmac KEYFILE] [--pii CLASSES] [--params NAMES] [--mask MASKS] IN [OUT]",
		run:     runLogs,
	})
}

func runLogs(args []string, stdout, stderr io.Writer) int {
	c := commands["logs"]
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		code := 2
		if len(args) > 0 {
			w, code = stdout, 0
		}
		fmt.Fprintf(w, "Usage: varde logs %s\n\n%s\n\n"+
			"  audit      report size, first/last record, anonymisation, raw IPs and other personal data\n"+
			"             (e-mail, phone, fødselsnummer, card, named parameters; file:line, masked) and\n"+
			"             files past retention; exit 0 compliant, 1 not compliant, 2 usage error\n"+
			"  anonymize  rewrite an httplog file with anonymised addresses (default --ip 24,48);\n"+
			"             without OUT the file is replaced atomically, OUT - writes to stdout\n", c.usage, c.summary)
		return code
	}
	switch args[0] {
	case "audit":
		return runLogsAudit(args[1:], stdout, stderr)
	case "anonymize", "anonymise":
		return runLogsAnonymize(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "varde logs: unknown subcommand %q (audit, anonymize)\n", args[0])
	return 2
}

// interleaved lets flags follow positional arguments (varde logs audit DIR --json).
func interleaved(fsParse func([]string) error, nargs func() []string, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fsParse(args); err != nil {
			return nil, err
		}
		rest := nargs()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runLogsAudit(args []string, stdout, stderr io.Writer) int {
	c := &command{name: "logs audit", usage: "PATH... [--retention DUR] [--json FILE] [--pii CLASSES] [--params NAMES]",
		summary: "audit log files (httplog/tcplog from varde or HAProxy, varde JSON) for raw IP addresses, other personal data and retention"}
	fs := newFlagSet(c, stdout, stderr)
	retention := fs.String("retention", "", "maximum age of any record, e.g. 7d, 90d, 12h")
	jsonOut := fs.String("json", "", "also write the report as JSON to `FILE` (- for stdout only)")
	piiFlag := fs.String("pii", "all", "personal data classes to look for: email,phone,fnr,card, all or none")
	params := fs.String("params", strings.Join(logpipe.DefaultAuditParams, ","), "query parameter and cookie `NAMES` whose values are personal data (none for no names)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	paths, err := interleaved(fs.Parse, fs.Args, args)
	if err != nil {
		return 2
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "varde logs audit: give at least one file or directory")
		return 2
	}
	var o logpipe.AuditOptions
	if *retention != "" {
		d, err := config.ParseDuration(*retention)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "varde logs audit: --retention %q: want a duration such as 7d\n", *retention)
			return 2
		}
		o.Retention = d
	}
	pii, err := auditPII(*piiFlag, *params)
	if err != nil {
		fmt.Fprintf(stderr, "varde logs audit: %v\n", err)
		return 2
	}
	o.PII = pii
	rep, err := logpipe.Audit(paths, o)
	if err != nil {
		fmt.Fprintf(stderr, "varde logs audit: %v\n", err)
		return 2
	}
	if *jsonOut != "-" {
		printAudit(stdout, rep)
	}
	if *jsonOut != "" {
		if err := writeAuditJSON(*jsonOut, rep, stdout); err != nil {
			fmt.Fprintf(stderr, "varde logs audit: --json: %v\n", err)
			return 2
		}
	}
	if !rep.Compliant {
		return 1
	}
	return 0
}

func printAudit(w io.Writer, rep *logpipe.Report) {
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	for _, f := range rep.Files {
		status := "OK"
		if !f.Compliant {
			status = "NOT COMPLIANT"
		}
		fmt.Fprintf(w, "%s: %s\n", f.Path, status)
		fmt.Fprintf(w, "  size %d bytes, %d lines, %d records, first %s, last %s, modified %s\n",
			f.Size, f.Lines, f.Records, ts(f.First), ts(f.Last), f.Modified.Format(time.RFC3339))
		fmt.Fprintf(w, "  anonymisation: %s\n", f.Anonymisation)
		for _, p := range f.Problems {
			fmt.Fprintf(w, "  problem: %s\n", p)
		}
		for _, fd := range f.Findings {
			fmt.Fprintf(w, "  raw %s in %s at %s:%d (%s)\n", fd.Family, fd.Field, fd.File, fd.Line, fd.Redacted)
		}
		if n := f.RawAddresses - len(f.Findings); n > 0 {
			fmt.Fprintf(w, "  ... and %d more raw addresses\n", n)
		}
		for _, fd := range f.PIIFindings {
			fmt.Fprintf(w, "  %s in %s at %s:%d (%s)\n", fd.Class, fd.Field, fd.File, fd.Line, fd.Masked)
		}
	}
	for _, c := range rep.ClassNames() {
		fmt.Fprintf(w, "%s: %d finding(s)\n", c, rep.Classes[c])
	}
	verdict := "COMPLIANT"
	if !rep.Compliant {
		verdict = "NOT COMPLIANT"
	}
	ret := "not checked"
	if rep.Retention > 0 {
		ret = rep.Retention.String()
	}
	fmt.Fprintf(w, "%d file(s), retention %s: %s\n", len(rep.Files), ret, verdict)
}

// auditPII builds what the audit looks for from --pii and --params.
func auditPII(classes, params string) (*logpipe.PIISpec, error) {
	c, err := logpipe.ParsePIIClasses(classes)
	if err != nil {
		return nil, fmt.Errorf("--pii: %w", err)
	}
	p := &logpipe.PIISpec{Classes: c}
	if params != "" && params != "none" {
		for _, n := range strings.Split(params, ",") {
			if n == "" || strings.ContainsAny(n, "=;&?# ") {
				return nil, fmt.Errorf("--params: invalid name %q", n)
			}
			p.Params = append(p.Params, strings.ToLower(n))
		}
	}
	return p, nil
}

// writeAuditJSON writes the machine-readable report an auditor archives:
// to stdout for "-", else atomically to path.
func writeAuditJSON(path string, rep *logpipe.Report, stdout io.Writer) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func runLogsAnonymize(args []string, stdout, stderr io.Writer) int {
	c := &command{name: "logs anonymize", usage: "[--ip V4,V6 | --hmac KEYFILE] [--pii CLASSES] [--params NAMES] [--mask MASKS] IN [OUT]",
		summary: "rewrite an httplog file with anonymised client addresses and personal data in captured headers and request lines"}
	fs := newFlagSet(c, stdout, stderr)
	ipBits := fs.String("ip", "", "keep V4,V6 prefix bits (default 24,48)")
	keyFile := fs.String("hmac", "", "replace addresses with HMAC pseudonyms keyed from `KEYFILE` (created when missing)")
	piiFlag := fs.String("pii", "all", "personal data classes to mask: email,phone,fnr,card, all or none")
	params := fs.String("params", strings.Join(logpipe.DefaultAuditParams, ","), "query parameter and cookie `NAMES` whose values are masked (none for no names)")
	mask := fs.String("mask", "drop", "how personal data is written: drop, hash (needs --hmac), truncate; CLASS=MASK exceptions after a comma")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	pos, err := interleaved(fs.Parse, fs.Args, args)
	if err != nil {
		return 2
	}
	if len(pos) < 1 || len(pos) > 2 || (*ipBits != "" && *keyFile != "") {
		fmt.Fprintln(stderr, "varde logs anonymize: want [--ip V4,V6 | --hmac KEYFILE] IN [OUT]")
		return 2
	}
	spec := logpipe.AnonSpec{Mode: logpipe.AnonIP, V4Bits: 24, V6Bits: 48}
	switch {
	case *keyFile != "":
		spec = logpipe.AnonSpec{Mode: logpipe.AnonHMAC, KeyFile: *keyFile}
	case *ipBits != "":
		a, _, err := logpipe.ParseAnon([]string{"ip", *ipBits})
		if err != nil {
			fmt.Fprintf(stderr, "varde logs anonymize: --ip: %v\n", err)
			return 2
		}
		spec = a
	}
	pii, err := auditPII(*piiFlag, *params)
	if err == nil {
		pii.Masks, err = logpipe.ParseMasks(*mask)
	}
	if err != nil {
		fmt.Fprintf(stderr, "varde logs anonymize: %v\n", err)
		return 2
	}
	spec.PII = *pii
	rw, err := logpipe.NewRewriter(spec)
	if err != nil {
		fmt.Fprintf(stderr, "varde logs anonymize: %v\n", err)
		return 1
	}
	in := pos[0]
	out := in
	if len(pos) == 2 {
		out = pos[1]
	}
	n, err := anonymizeFile(rw, in, out, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "varde logs anonymize: %v\n", err)
		return 1
	}
	if out != "-" {
		fmt.Fprintf(stderr, "varde logs anonymize: %d lines written to %s\n", n, out)
	}
	return 0
}

func anonymizeFile(rw *logpipe.Rewriter, in, out string, stdout io.Writer) (int, error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(in, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", in, err)
		}
		r = zr
	}
	var w io.Writer = stdout
	var tmp *os.File
	if out != "-" {
		// Always through a temp file + rename: in place is safe, and a
		// crash never leaves a half-anonymised file under the final name.
		tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".anon-*")
		if err != nil {
			return 0, err
		}
		defer os.Remove(tmp.Name())
		mode := os.FileMode(0o640)
		if st, err := f.Stat(); err == nil {
			mode = st.Mode().Perm()
		}
		tmp.Chmod(mode)
		w = tmp
	}
	var zw *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		zw = gzip.NewWriter(w)
		w = zw
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	var line []byte
	for sc.Scan() {
		line = rw.Line(line[:0], sc.Bytes())
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("%s: line %s: %w", in, strconv.Itoa(n+1), err)
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return n, err
		}
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return n, err
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return n, err
		}
	}
	return n, nil
}
