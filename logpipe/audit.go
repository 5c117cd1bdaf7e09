package logpipe

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// AuditOptions tune Audit.
type AuditOptions struct {
	Retention   time.Duration // 0: not checked
	Now         time.Time
	Location    *time.Location // of the dates in the logs (HAProxy writes local time)
	MaxFindings int            // per file (per class for personal data); default 20
	// PII is the personal data looked for besides addresses; nil: none
	// (Audit uses DefaultAuditPII when it is nil).
	PII *PIISpec
}

// Finding is one raw address found in a log file. The address itself is
// not kept: Redacted shows only its first octet or group.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Field    string `json:"field"` // client, captured header, request, text
	Family   string `json:"family"`
	Redacted string `json:"redacted"`
}

// FileReport is what the audit says about one file.
type FileReport struct {
	Path          string     `json:"path"`
	Size          int64      `json:"size"`
	Modified      time.Time  `json:"modified"`
	Lines         int        `json:"lines"`
	Records       int        `json:"records"` // lines recognised as httplog/tcplog/jsonlog
	First         *time.Time `json:"first_record,omitempty"`
	Last          *time.Time `json:"last_record,omitempty"`
	Anonymisation string     `json:"anonymisation"`
	RawAddresses  int        `json:"raw_addresses"`
	Findings      []Finding  `json:"findings,omitempty"`
	// PII counts personal data other than addresses by class; PIIFindings
	// are masked samples (at most MaxFindings per class).
	PII           map[string]int `json:"personal_data,omitempty"`
	PIIFindings   []PIIFinding   `json:"personal_data_findings,omitempty"`
	PastRetention bool           `json:"past_retention,omitempty"`
	Compliant     bool           `json:"compliant"`
	Problems      []string       `json:"problems,omitempty"`
	Error         string         `json:"error,omitempty"`
}

// Report is the audit of every file given.
type Report struct {
	Checked   time.Time     `json:"checked"`
	Retention time.Duration `json:"retention_ns,omitempty"`
	Files     []FileReport  `json:"files"`
	// Classes totals the findings of every file by class: "ip" (raw
	// addresses), "email", "phone", "fnr", "card", "param".
	Classes   map[string]int `json:"classes"`
	Compliant bool           `json:"compliant"`
}

// Audit reads every file (directories recursively; .gz transparently) and
// reports, for an auditor, whether raw client addresses or over-age records
// are present. It understands httplog/tcplog lines (HAProxy's or varde's,
// behind any syslog header) and varde's JSON lines; on other lines every
// address-looking token counts.
func Audit(paths []string, o AuditOptions) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = 20
	}
	if o.PII == nil {
		o.PII = DefaultAuditPII()
	}
	rep := &Report{Checked: o.Now, Retention: o.Retention, Compliant: true}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		fr := auditFile(f, o)
		if !fr.Compliant {
			rep.Compliant = false
		}
		rep.Files = append(rep.Files, fr)
	}
	rep.summarise()
	return rep, nil
}

func auditFile(path string, o AuditOptions) FileReport {
	fr := FileReport{Path: path}
	f, err := os.Open(path)
	if err != nil {
		fr.Error = err.Error()
		fr.Problems = append(fr.Problems, "unreadable: "+err.Error())
		return fr
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		fr.Size, fr.Modified = st.Size(), st.ModTime()
	}
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			fr.Error = err.Error()
			fr.Problems = append(fr.Problems, "unreadable gzip: "+err.Error())
			return fr
		}
		r = zr
	}
	AuditReader(&fr, r, o)
	return fr
}

// addrStats accumulates what the client addresses of a file look like.
type addrStats struct {
	v4, v6, pseudo, raw int
	v4Prefix, v6Prefix  int // longest prefix seen among anonymised addresses
}

// AuditReader audits one stream into fr (exported for fuzzing and tools).
func AuditReader(fr *FileReport, r io.Reader, o AuditOptions) {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.PII == nil {
		o.PII = DefaultAuditPII()
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = 20
	}
	var st addrStats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fr.Lines++
		auditLine(fr, &st, sc.Bytes(), o)
	}
	if err := sc.Err(); err != nil {
		fr.Error = err.Error()
		fr.Problems = append(fr.Problems, "read error: "+err.Error())
	}
	switch {
	case fr.Records == 0:
		// Without records there is no client field to judge; raw addresses
		// elsewhere in the file are still reported as problems below.
		fr.Anonymisation = "unknown (no access-log records)"
	case st.raw > 0 && st.raw == st.v4+st.v6+st.pseudo:
		fr.Anonymisation = "none (raw client addresses)"
	case st.raw > 0:
		fr.Anonymisation = "mixed (some raw client addresses)"
	case st.pseudo > 0 && st.v4+st.v6 == 0:
		fr.Anonymisation = "hmac pseudonyms"
	default:
		var parts []string
		if st.v4 > 0 {
			parts = append(parts, fmt.Sprintf("IPv4 /24 or shorter, longest prefix seen /%d", st.v4Prefix))
		}
		if st.v6 > 0 {
			parts = append(parts, fmt.Sprintf("IPv6 /64 or shorter, longest prefix seen /%d", st.v6Prefix))
		}
		if st.pseudo > 0 {
			parts = append(parts, "hmac pseudonyms")
		}
		fr.Anonymisation = "truncated addresses (" + strings.Join(parts, "; ") + ")"
	}
	if fr.RawAddresses > 0 {
		fr.Problems = append(fr.Problems, fmt.Sprintf("%d raw IP address(es) found", fr.RawAddresses))
	}
	if p := piiProblem(fr.PII); p != "" {
		fr.Problems = append(fr.Problems, p)
	}
	if o.Retention > 0 {
		oldest := fr.Modified
		if fr.First != nil && (oldest.IsZero() || fr.First.Before(oldest)) {
			oldest = *fr.First
		}
		if !oldest.IsZero() && o.Now.Sub(oldest) > o.Retention {
			fr.PastRetention = true
			fr.Problems = append(fr.Problems, fmt.Sprintf("holds data from %s, older than the retention of %s",
				oldest.Format(time.RFC3339), o.Retention))
		}
	}
	fr.Compliant = len(fr.Problems) == 0
}

func auditLine(fr *FileReport, st *addrStats, b []byte, o AuditOptions) {
	lineNo := fr.Lines
	seen := func(t time.Time) {
		fr.Records++
		if fr.First == nil || t.Before(*fr.First) {
			tt := t
			fr.First = &tt
		}
		if fr.Last == nil || t.After(*fr.Last) {
			tt := t
			fr.Last = &tt
		}
	}
	if l, ok := ParseLine(b, o.Location); ok {
		seen(l.Date)
		client := b[l.Client.Start:l.Client.End]
		judgeClient(fr, st, client, lineNo, o)
		// Everything but the client field and the server name: the syslog
		// header (a relay may write the sender's address), captures, request.
		scanText(fr, b[:l.Client.Start], lineNo, "syslog header", o)
		if l.ReqHeaders.End > l.ReqHeaders.Start {
			scanBoth(fr, b[l.ReqHeaders.Start:l.ReqHeaders.End], lineNo, "captured request header", o)
		}
		if l.ResHeaders.End > l.ResHeaders.Start {
			scanBoth(fr, b[l.ResHeaders.Start:l.ResHeaders.End], lineNo, "captured response header", o)
		}
		if l.Request.End > l.Request.Start {
			scanBoth(fr, b[l.Request.Start:l.Request.End], lineNo, "request", o)
		}
		if l.HTTP && len(l.Fields) > 8 { // %CC %CS
			scanPII(fr, []byte(l.Fields[7]), lineNo, "captured cookie", o)
			scanPII(fr, []byte(l.Fields[8]), lineNo, "captured cookie", o)
		}
		return
	}
	if j := bytes.IndexByte(b, '{'); j >= 0 && bytes.HasSuffix(bytes.TrimSpace(b), []byte("}")) {
		var rec map[string]any
		if json.Unmarshal(bytes.TrimSpace(b[j:]), &rec) == nil {
			if ci, ok := rec["client_ip"].(string); ok {
				for _, k := range []string{"request_date", "accept_date"} {
					if s, ok := rec[k].(string); ok {
						if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
							seen(t)
						}
					}
				}
				judgeClient(fr, st, []byte(ci), lineNo, o)
				scanText(fr, b[:j], lineNo, "syslog header", o)
				for _, k := range []string{"captured_request_headers", "captured_response_headers"} {
					if arr, ok := rec[k].([]any); ok {
						for _, v := range arr {
							if s, ok := v.(string); ok {
								scanBoth(fr, []byte(s), lineNo, "captured header", o)
							}
						}
					}
				}
				if s, ok := rec["http_request"].(string); ok {
					scanBoth(fr, []byte(s), lineNo, "request", o)
				}
				for _, k := range []string{"captured_request_cookie", "captured_response_cookie"} {
					if s, ok := rec[k].(string); ok {
						scanPII(fr, []byte(s), lineNo, "captured cookie", o)
					}
				}
				return
			}
		}
	}
	scanBoth(fr, b, lineNo, "text", o)
}

// scanBoth looks for raw addresses and for other personal data.
func scanBoth(fr *FileReport, b []byte, line int, field string, o AuditOptions) {
	scanText(fr, b, line, field, o)
	scanPII(fr, b, line, field, o)
}

// anonymised reports whether ip looks truncated: an IPv4 address with a
// zero last octet (a /24 or shorter), an IPv6 address with its interface
// identifier (last 64 bits) zero.
func anonymised(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		return a[3] == 0
	}
	a := ip.As16()
	for _, c := range a[8:] {
		if c != 0 {
			return false
		}
	}
	return true
}

func prefixLen(ip netip.Addr) int {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		if v == 0 {
			return 0
		}
		return 32 - bits.TrailingZeros32(v)
	}
	a := ip.As16()
	hi := uint64(0)
	lo := uint64(0)
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(a[i])
		lo = lo<<8 | uint64(a[8+i])
	}
	switch {
	case lo != 0:
		return 128 - bits.TrailingZeros64(lo)
	case hi != 0:
		return 64 - bits.TrailingZeros64(hi)
	}
	return 0
}

func judgeClient(fr *FileReport, st *addrStats, client []byte, line int, o AuditOptions) {
	switch {
	case bytes.HasPrefix(client, []byte(pseudonymPrefix)):
		st.pseudo++
		return
	case len(client) == 0 || string(client) == "-" || string(client) == "unix" || string(client) == InvalidMarker:
		return
	}
	ip, ok := parseAddrBytes(client)
	if !ok {
		// Not an address we understand: scan it as text.
		scanText(fr, client, line, "client", o)
		return
	}
	if ip.Unmap().Is4() {
		st.v4++
	} else {
		st.v6++
	}
	if anonymised(ip) {
		if ip.Unmap().Is4() {
			st.v4Prefix = max(st.v4Prefix, prefixLen(ip))
		} else {
			st.v6Prefix = max(st.v6Prefix, prefixLen(ip))
		}
		return
	}
	st.raw++
	addFinding(fr, ip, line, "client", o)
}

func scanText(fr *FileReport, b []byte, line int, field string, o AuditOptions) {
	for from := 0; ; {
		_, e, ip, ok := nextAddr(b, from)
		if !ok {
			return
		}
		from = e
		if !anonymised(ip) {
			addFinding(fr, ip, line, field, o)
		}
	}
}

func addFinding(fr *FileReport, ip netip.Addr, line int, field string, o AuditOptions) {
	fr.RawAddresses++
	if len(fr.Findings) >= o.MaxFindings {
		return
	}
	fr.Findings = append(fr.Findings, Finding{File: fr.Path, Line: line, Field: field, Family: family(ip), Redacted: Redact(ip)})
}

func family(ip netip.Addr) string {
	if ip.Unmap().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// Redact keeps only the first octet (IPv4) or group (IPv6): enough to tell
// an auditor what kind of address it was, not whose.
func Redact(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		return fmt.Sprintf("%d.x.x.x", ip.As4()[0])
	}
	a := ip.As16()
	return fmt.Sprintf("%x:x:x:x:x:x:x:x", uint16(a[0])<<8|uint16(a[1]))
}
