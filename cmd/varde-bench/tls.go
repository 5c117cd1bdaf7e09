package main

// The TLS shape (-tls): the same two nginx backends behind a `bind ... ssl`
// frontend, for an ECDSA P-256 and an RSA-2048 certificate, measured with
// wrk over https: new TLS connections per second (one request each:
// "Connection: close", so every request is a full handshake) and
// requests/s over keep-alive TLS connections, alternating HAProxy and
// varde for o.rounds rounds.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// writeBenchCert writes a self-signed certificate and key in one PEM.
func writeBenchCert(path string, useRSA bool) error {
	var k crypto.Signer
	var err error
	if useRSA {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench.test"}, DNSNames: []string{"bench.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...)
	return os.WriteFile(path, data, 0o600)
}

func runTLS(o options, kinds []proxyKind, dir string, b1, b2 int) error {
	var table bytes.Buffer
	fmt.Fprintf(&table, "| TLS (%s per round, median of %d) | HAProxy | varde | varde/HAProxy | target |\n|---|---|---|---|---|\n", o.duration, o.rounds)
	for _, key := range []struct {
		name string
		rsa  bool
	}{{"ECDSA P-256", false}, {"RSA-2048", true}} {
		crt := filepath.Join(dir, "bench-"+strconv.FormatBool(key.rsa)+".pem")
		if err := writeBenchCert(crt, key.rsa); err != nil {
			return err
		}
		port := freePort()
		cfg := filepath.Join(dir, "tls-"+strconv.FormatBool(key.rsa)+".cfg")
		src := fmt.Sprintf("global\n    maxconn 10100\n    ulimit-n %d\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n    option forwardfor\n\nfrontend bench\n    bind 127.0.0.1:%d ssl crt %s\n    default_backend nginx\n\nbackend nginx\n    balance roundrobin\n    server n1 127.0.0.1:%d\n    server n2 127.0.0.1:%d\n", noFileLimit(), port, crt, b1, b2)
		if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for _, shape := range []struct {
			name   string
			close  bool
			target string
		}{{"new TLS connections/s, " + key.name, true, ">= 1.0"}, {"requests/s over TLS keep-alive, " + key.name, false, ">= 0.9"}} {
			got := map[string][]float64{}
			for r := 0; r < o.rounds; r++ {
				for _, k := range kinds {
					rps, err := tlsRound(k, cfg, addr, o, shape.close)
					if err != nil {
						return fmt.Errorf("%s, %s round %d: %w", shape.name, k.name, r+1, err)
					}
					fmt.Printf("%-45s round %d %-8s %9.0f req/s\n", shape.name, r+1, k.name, rps)
					got[k.name] = append(got[k.name], rps)
				}
			}
			h, v := median(got["haproxy"]), median(got["varde"])
			fmt.Fprintf(&table, "| %s | %.0f | %.0f | %.2f | %s |\n", shape.name, h, v, v/h, shape.target)
		}
	}
	fmt.Printf("\n%s", table.String())
	if o.out != "" {
		return os.WriteFile(o.out, table.Bytes(), 0o644)
	}
	return nil
}

// tlsRound runs wrk over https once against a fresh proxy.
func tlsRound(k proxyKind, cfg, addr string, o options, closeEach bool) (float64, error) {
	cmd, err := startProxy(k, cfg, addr)
	if err != nil {
		return 0, err
	}
	defer stopProcess(cmd)
	args := []string{"-t2", "-c" + strconv.Itoa(o.conns), "-d" + o.duration.String()}
	if closeEach {
		args = append(args, "-H", "Connection: close")
	}
	out, err := exec.Command("wrk", append(args, "https://"+addr+"/")...).Output()
	if err != nil {
		return 0, fmt.Errorf("wrk: %w", err)
	}
	m := reqsRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("cannot read wrk output:\n%s", out)
	}
	if bytes.Contains(out, []byte("Non-2xx")) {
		return 0, fmt.Errorf("errors during the run:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
