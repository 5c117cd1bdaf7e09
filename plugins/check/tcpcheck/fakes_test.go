package tcpcheck

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// A fake server speaks a script: for each turn, read until the expected
// bytes arrived (nothing to wait for when empty), then write the reply.
// A reply "" with close set ends the connection; mute servers never answer.
type turn struct {
	want  string // bytes the client must have sent, "" = none
	reply string
}

type behaviour struct {
	turns []turn
	mute  bool // read forever, never answer
	close bool // close right after the last turn
	// drain reads what the client sends (for 200 ms) before the turns, so
	// that a close is a clean FIN; reset closes with an RST instead.
	drain, reset bool
}

// serve starts a loopback listener running b for every connection and
// returns its address; it stops with the test.
func serve(t testing.TB, b behaviour) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); b.run(c) }()
		}
	}()
	return l.Addr().String()
}

func (b behaviour) run(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	if b.drain {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	if b.reset {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		return
	}
	if b.mute {
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}
	for _, tr := range b.turns {
		for !bytes.Contains(got, []byte(tr.want)) {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				return
			}
		}
		got = got[:0]
		if tr.reply != "" {
			if _, err := c.Write([]byte(tr.reply)); err != nil {
				return
			}
		}
	}
	if b.close {
		return
	}
	// Linger until the client closes, as a real server would.
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// Behaviours of the servers the tests check.
var (
	redisMaster = behaviour{turns: []turn{
		{"PING\r\n", "+PONG\r\n"},
		{"info replication\r\n", "$60\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n"},
		{"QUIT\r\n", "+OK\r\n"},
	}, close: true}
	redisReplica = behaviour{turns: []turn{
		{"PING\r\n", "+PONG\r\n"},
		{"info replication\r\n", "$40\r\n# Replication\r\nrole:slave\r\n\r\n"},
		{"QUIT\r\n", "+OK\r\n"},
	}, close: true}
	redisLoading = behaviour{turns: []turn{
		{"PING", "-LOADING Redis is loading the dataset in memory\r\n"},
	}}
	muteServer   = behaviour{mute: true}
	http503      = behaviour{turns: []turn{{"\r\n\r\n", "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"}}, close: true}
	httpOK       = behaviour{turns: []turn{{"\r\n\r\n", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"}}, close: true}
	closerServer = behaviour{close: true, drain: true}
	resetServer  = behaviour{drain: true, reset: true}
	smtpGood     = behaviour{turns: []turn{
		{"", "220 mail.example.com ESMTP ready\r\n"},
		{"\r\n", "250-mail.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n"},
		{"QUIT\r\n", "221 2.0.0 Bye\r\n"},
	}, close: true}
	smtpBusy = behaviour{turns: []turn{
		{"", "421 mail.example.com too busy\r\n"},
	}, close: true}
	smtpRefusesHelo = behaviour{turns: []turn{
		{"", "220 mail.example.com ESMTP ready\r\n"},
		{"\r\n", "502 5.5.2 HELO not accepted\r\n"},
	}}
	pgsqlTrust = behaviour{turns: []turn{
		{"user\x00", "R\x00\x00\x00\x08\x00\x00\x00\x00" + "S\x00\x00\x00\x19server_version\x0014.5\x00"},
	}}
	pgsqlNoUser = behaviour{turns: []turn{
		{"user\x00", "E\x00\x00\x00\x4bSFATAL\x00C28000\x00Mno pg_hba.conf entry for host\x00\x00"},
	}, close: true}
	mysqlReady = behaviour{turns: []turn{
		{"", mysqlHandshake("8.0.36")},
	}}
	mysqlBlocked = behaviour{turns: []turn{
		{"", mysqlError(1129, "Host '127.0.0.1' is blocked because of many connection errors")},
	}, close: true}
	ldapOK = behaviour{turns: []turn{
		{"\x80\x00", "\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00"},
	}}
	ldapInvalidCreds = behaviour{turns: []turn{
		{"\x80\x00", "\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00"},
	}}
)

// mysqlHandshake is a protocol 10 initial handshake packet.
func mysqlHandshake(version string) string {
	body := "\x0a" + version + "\x00" + "\x01\x00\x00\x00" + "abcdefgh\x00" + "\xff\xf7\x21\x02\x00\xff\x81\x15" + strings.Repeat("\x00", 10) + "ijklmnopqrst\x00" + "mysql_native_password\x00"
	n := len(body)
	return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}) + body
}

// mysqlError is an ERR packet (0xff, code, message).
func mysqlError(code int, msg string) string {
	body := "\xff" + string([]byte{byte(code), byte(code >> 8)}) + msg
	n := len(body)
	return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}) + body
}

// serveTLS is serve behind TLS, with a throw-away self-signed certificate.
func serveTLS(t testing.TB, b behaviour) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redis.test"},
		DNSNames: []string{"redis.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(l, cfg)
	var wg sync.WaitGroup
	t.Cleanup(func() { tl.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); b.run(c) }()
		}
	}()
	return l.Addr().String()
}
