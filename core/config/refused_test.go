package config

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// refusedRow is one row of docs/config.md's Refused table, built from the
// parser's refusal maps: the keyword as the table writes it, the hint, and
// a configuration using it.
type refusedRow struct{ keyword, hint, config string }

const refusedHead = "defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\n"

// refusedRows is the union of every refusal map, as the docs write them.
func refusedRows() []refusedRow {
	var rows []refusedRow
	for kw, hint := range Unsupported {
		line := " " + kw + " x\n"
		cfg := refusedHead + "listen l\n bind :80\n" + line + " server s 127.0.0.1:80\n"
		if isHAProxyKeyword(strings.Fields(kw)[0], SecGlobal) && !isHAProxyKeyword(strings.Fields(kw)[0], SecDefaults|SecFrontend|SecBackend) {
			cfg = "global\n" + line + refusedHead
		}
		rows = append(rows, refusedRow{"`" + kw + "`", hint, cfg})
	}
	for kw, hint := range UnsupportedSections {
		rows = append(rows, refusedRow{"section `" + kw + "`", hint, refusedHead + kw + " x\n"})
	}
	for o, hint := range unsupportedServerOptions {
		rows = append(rows, refusedRow{"`server ... " + o + "`", hint, refusedHead + "backend b\n server s 127.0.0.1:80 " + o + " x\n"})
	}
	for o, hint := range unsupportedBindOptions {
		rows = append(rows, refusedRow{"`bind ... " + o + "`", hint, refusedHead + "frontend f\n bind :80 " + o + " x\n default_backend b\nbackend b\n server s 127.0.0.1:80\n"})
	}
	for a, hint := range unsupportedHTTPActions {
		for _, fam := range []string{"http-request", "http-response"} {
			if LookupKeyword(fam+" "+a) != nil {
				continue // built for this family (e.g. http-request wait-for-body)
			}
			rows = append(rows, refusedRow{"`" + fam + " " + a + "`", hint, refusedHead + "backend b\n " + fam + " " + a + "\n server s 127.0.0.1:80\n"})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].keyword < rows[j].keyword })
	return rows
}

// refusedName is the keyword an error must name for a row.
func refusedName(row string) string {
	k := strings.Trim(strings.TrimPrefix(row, "section "), "`")
	for _, f := range []string{"server ... ", "bind ... "} {
		if strings.HasPrefix(k, f) {
			return strings.TrimPrefix(k, f)
		}
	}
	return k
}

// TestRefusalMapsAreLive: every entry of the refusal maps is refused by
// the parser with an error naming it, so no entry silently goes dead
// when its keyword gets built elsewhere.
func TestRefusalMapsAreLive(t *testing.T) {
	for _, r := range refusedRows() {
		t.Run(r.keyword, func(t *testing.T) {
			d := &diag.List{}
			Parse("test.cfg", []byte(r.config), func(string) string { return "" }, d)
			name := refusedName(r.keyword)
			for _, it := range d.Items() {
				if it.Severity == diag.Error && strings.Contains(it.Keyword, name) && strings.Contains(it.Message, "not support") {
					return
				}
			}
			t.Errorf("%s not refused naming %q:\n%s\n%v", r.keyword, name, r.config, d.Items())
		})
	}
}

// refusedElsewhere are Refused-table rows whose refusal is not one of the
// maps (tcp-request/tcp-response actions, source usesrc hdr_ip): each is
// kept only while a config using it is still refused.
var refusedElsewhere = []struct{ prefix, name, config string }{
	{"`tcp-request content ...`", "tcp-request content silent-drop", refusedHead + "frontend f\n mode tcp\n bind :80\n tcp-request content silent-drop\n default_backend b\nbackend b\n mode tcp\n server s 127.0.0.1:80\n"},
	{"`tcp-response content ...`", "tcp-response content silent-drop", refusedHead + "backend b\n mode tcp\n tcp-response content silent-drop\n server s 127.0.0.1:80\n"},
	{"`source ... usesrc hdr_ip(...)`", "hdr_ip", refusedHead + "backend b\n source 0.0.0.0 usesrc hdr_ip(x-forwarded-for)\n server s 127.0.0.1:80\n"},
}

// docsRefusedRows reads the rows of docs/config.md's Refused table.
func docsRefusedRows(t *testing.T) []string {
	src, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(src), "### Refused (")
	if !ok {
		t.Fatal("docs/config.md has no Refused table")
	}
	var rows []string
	for _, line := range strings.Split(after, "\n")[1:] {
		if strings.HasPrefix(line, "### ") || strings.HasPrefix(line, "## ") {
			break
		}
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Keyword") {
			rows = append(rows, line)
		}
	}
	return rows
}

// TestDocsRefusedTableMatchesParser: the Refused table lists exactly the
// parser's refusals, each with the hint the code gives.
func TestDocsRefusedTableMatchesParser(t *testing.T) {
	want := map[string]bool{}
	for _, r := range refusedRows() {
		want["| "+r.keyword+" | "+r.hint+" |"] = true
	}
	got := map[string]bool{}
rows:
	for _, line := range docsRefusedRows(t) {
		for _, e := range refusedElsewhere {
			if strings.HasPrefix(line, "| "+e.prefix) {
				d := &diag.List{}
				Parse("test.cfg", []byte(e.config), func(string) string { return "" }, d)
				if !namesError(d, e.name) {
					t.Errorf("docs row %q: no error naming %q now: %v", e.prefix, e.name, d.Items())
				}
				continue rows
			}
		}
		got[line] = true
		if !want[line] {
			t.Errorf("docs/config.md Refused row the parser does not keep: %s", line)
		}
	}
	for line := range want {
		if !got[line] {
			t.Errorf("refusal missing from docs/config.md Refused table: %s", line)
		}
	}
}

// namesError reports whether d holds an error naming name.
func namesError(d *diag.List, name string) bool {
	for _, it := range d.Items() {
		if it.Severity == diag.Error && (strings.Contains(it.Keyword, name) || strings.Contains(it.Message, name)) {
			return true
		}
	}
	return false
}
