package config

import (
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/sticktable"
)

const stickHead = "defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\nfrontend f\n bind :80\n default_backend b\nbackend b\n server s 127.0.0.1:80\n"

func TestStickTableParsed(t *testing.T) {
	c, d := load(t, stickHead+"backend t\n stick-table type string len 12 size 2k expire 1m nopurge store gpc0,http_req_rate(10s) store conn_cur\n")
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	got := c.StickTableOf("t").Def
	want := sticktable.Def{Name: "t", Key: sticktable.KeyString, KeyLen: 12, Size: 2048, Expire: time.Minute, NoPurge: true,
		Store: []sticktable.Store{{Type: sticktable.GPC0}, {Type: sticktable.HTTPReqRate, Period: 10 * time.Second}, {Type: sticktable.ConnCur}}}
	if !got.Equal(&want) {
		t.Fatalf("def %+v, want %+v", got, want)
	}
}

// TestStickRefusals: each form varde does not build, or that is wrong,
// is an error at its line.
func TestStickRefusals(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"peers", " stick-table type ip size 1k peers p\n", "unable to find sync peers 'p'"},
		{"no size", " stick-table type ip\n", "needs a type and a size"},
		{"bad type", " stick-table type mac size 1k\n", "unknown stick-table type"},
		{"len on ip", " stick-table type ip len 4 size 1k\n", "takes no len"},
		{"unknown store", " stick-table type ip size 1k store gpc9\n", "unknown data type"},
		{"rate without period", " stick-table type ip size 1k store conn_rate\n", "needs a period"},
		{"period on counter", " stick-table type ip size 1k store gpc0(1s)\n", "takes no argument"},
		{"unknown option", " stick-table type ip size 1k srvkey name\n", "not supported"},
		{"two tables", " stick-table type ip size 1k\n stick-table type ip size 1k\n", "only one stick-table"},
		{"no table", " http-request track-sc0 src\n", "no stick table \"f\""},
		{"missing table", " http-request track-sc0 src table nope\n", "no stick table \"nope\""},
		{"bad key", " stick-table type ip size 1k\n http-request track-sc0 nosuchfetch\n", "nosuchfetch"},
		{"track extra words", " stick-table type ip size 1k\n http-request track-sc0 src x y\n", "expects a key"},
		{"gpt0 value", " stick-table type ip size 1k\n http-request sc-set-gpt0(0) abc\n", "sc-set-gpt0 value"},
		{"src fetch without table", " http-request deny if { src_http_req_rate gt 10 }\n", "has no stick table"},
		{"src fetch in acl", " acl abuse src_conn_cur ge 5\n http-request deny if abuse\n", "has no stick table"},
		{"sc fetch unknown table", " http-request deny if { sc_http_req_rate(0,nope) gt 10 }\n", "no stick table \"nope\""},
		{"scN fetch unknown table", " http-request deny if { sc1_conn_cur(nope) gt 10 }\n", "no stick table \"nope\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(stickHead, " default_backend b\n", " default_backend b\n"+tc.line, 1)
			_, d := load(t, src)
			if !d.HasErrors() || !strings.Contains(d.Err().Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, d.Err())
			}
		})
	}
}

// FuzzStickLines: stick-table and tracking lines never panic the parser
// and a line that is accepted yields a usable table definition.
func FuzzStickLines(f *testing.F) {
	for _, s := range []string{
		"stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur",
		"stick-table type string len 0 size 1g store gpc0(",
		"stick-table type integer size 9999999999k",
		"http-request track-sc0 src table",
		"http-request sc-inc-gpc0(7)",
		"tcp-request connection track-sc2 src if { sc_conn_cur(2) gt 1 }",
		"stick-table type binary len 70000 size 1 store ,,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n\r") {
			return
		}
		src := "frontend f\n bind :80\n " + line + "\n"
		d := &diag.List{}
		c := Parse("f.cfg", []byte(src), func(string) string { return "" }, d)
		if c == nil {
			return
		}
		for _, px := range c.Proxies {
			if st := px.StickTable; st != nil && (st.Def.Size < 0 || st.Def.KeyLen < 0) {
				t.Fatalf("accepted %q with %+v", line, st.Def)
			}
		}
	})
}
