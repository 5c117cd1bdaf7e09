package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// resetCompRates clears the process-wide rates so a test starts from 0.
func resetCompRates() {
	for _, f := range []*freqCtr{&compBpsIn, &compBpsOut} {
		f.mu.Lock()
		f.sec, f.curr, f.prev = 0, 0, 0
		f.mu.Unlock()
	}
}

func TestFreqCtr(t *testing.T) {
	var f freqCtr
	t0 := time.Unix(1000, 0)
	f.add(1000, t0)
	f.add(500, t0.Add(900*time.Millisecond))
	if got := f.read(t0.Add(999 * time.Millisecond)); got != 1500 {
		t.Errorf("same second: %d", got)
	}
	if got := f.read(t0.Add(1250 * time.Millisecond)); got != 1125 {
		t.Errorf("next second, a quarter in: %d, want 1500*3/4", got)
	}
	if got := f.read(t0.Add(3 * time.Second)); got != 0 {
		t.Errorf("two seconds later: %d", got)
	}
}

// TestCompressionRateLimit: with maxcomprate, a response starting while the
// input rate is above it is not compressed at all, and one in progress
// drops to level 0 (stored blocks, counted in comp_byp) when the output
// rate goes above it; the body decodes the same.
func TestCompressionRateLimit(t *testing.T) {
	resetCompRates()
	t.Cleanup(resetCompRates)
	text := compBody(1 << 20)
	addr, _ := startCompBackend(t, map[string]string{"/": clResp("Content-Type: text/plain\r\n", text)})
	cfg := compConfig(addr, algosOf("gzip"), nil)
	cfg.CompRateLimit = 1024 // maxcomprate 1
	e, eaddr := startEngine(t, cfg)
	resp := compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	checkComp(t, resp, "gzip", false, true, "", text)
	m := &e.frontends[0].Meters
	waitCompRsp(t, &m.CompRsp, 1)
	if m.CompIn.Load() == 0 || m.CompByp.Load() == 0 || m.CompIn.Load()+m.CompByp.Load() != uint64(len(text)) {
		t.Errorf("comp_in %d, comp_byp %d: want both, adding up to %d", m.CompIn.Load(), m.CompByp.Load(), len(text))
	}
	resp = compExchange(t, eaddr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	checkComp(t, resp, "", false, false, "", text)
}

// TestCompressionRateDifferentialHAProxy: the same maxcomprate decisions
// as HAProxy 2.6: the first large response compressed (partly at level
// 0), the ones right after it not compressed.
func TestCompressionRateDifferentialHAProxy(t *testing.T) {
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	resetCompRates()
	t.Cleanup(resetCompRates)
	text := compBody(1 << 20)
	baddr, _ := startCompBackend(t, map[string]string{"/big": clResp("Content-Type: text/plain\r\n", text), "/small": clResp("Content-Type: text/plain\r\n", compText)})
	dir := t.TempDir()
	render := func(port int) string {
		return fmt.Sprintf("global\n    maxcomprate 1\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n"+
			"frontend web\n    bind 127.0.0.1:%d\n    compression algo gzip\n    default_backend app\nbackend app\n    server s1 %s\n", port, baddr)
	}
	hport, vport := testenv.FreePort(t), testenv.FreePort(t)
	hcfg := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(hcfg, []byte(render(hport)), 0o644)
	testenv.Start(t, haproxy, "-db", "-f", hcfg)
	haddr := fmt.Sprintf("127.0.0.1:%d", hport)
	testenv.WaitTCP(t, haddr, 10*time.Second)
	vcfg := filepath.Join(dir, "varde.cfg")
	os.WriteFile(vcfg, []byte(render(vport)), 0o644)
	set, d := config.LoadFiles([]string{vcfg}, nil)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	pcfg, err := FromConfig(set.HAProxy)
	if err != nil {
		t.Fatal(err)
	}
	startEngine(t, pcfg)
	vaddr := fmt.Sprintf("127.0.0.1:%d", vport)
	for _, addr := range []string{haddr, vaddr} {
		var got []string
		for _, p := range []string{"/big", "/small", "/big"} {
			o := compDiffRun(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", false)
			got = append(got, p+":"+o.ContentEncoding+":"+o.ContentLength)
			want := text
			if p == "/small" {
				want = compText
			}
			if o.Body != want && !strings.HasPrefix(o.Body, fmt.Sprintf("%d bytes", len(want))) {
				t.Errorf("%s %s: body %.60q", addr, p, o.Body)
			}
		}
		want := fmt.Sprintf("/big:gzip: /small::%d /big::%d", len(compText), len(text))
		if strings.Join(got, " ") != want {
			t.Errorf("%s: %s, want %s", addr, strings.Join(got, " "), want)
		}
	}
}

// TestEncoderLevelSwitch: switching between level 0 and the configured
// level at flush boundaries keeps one valid stream for every algorithm.
func TestEncoderLevelSwitch(t *testing.T) {
	text := compBody(300 << 10)
	for _, algo := range []compAlgo{compGzip, compDeflate, compRawDeflate} {
		e, err := takeEncoder(algo, 5)
		if err != nil {
			t.Fatal(err)
		}
		var stream []byte
		for i, level := range []int{5, 0, 5, 0, 0, 5} {
			part := text[i*50<<10 : (i+1)*50<<10]
			if err := e.add([]byte(part)); err != nil {
				t.Fatal(err)
			}
			if i == 5 {
				err = e.finish()
			} else if err = e.flush(); err == nil {
				err = e.setLevel(level)
			}
			if err != nil {
				t.Fatal(err)
			}
			stream = append(stream, e.out[chunkRoom:]...)
			e.out = e.out[:chunkRoom]
		}
		e.release()
		if got := decode(t, algo.token(), algo == compRawDeflate, stream); got != text {
			t.Errorf("%v: decoded %d bytes, want %d", algo, len(got), len(text))
		}
	}
}
