package admin

import (
	"bufio"
	"crypto/sha1"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core/tlsx"
)

// Runtime certificate replacement, as HAProxy's CLI:
//
//	set ssl cert FILE <<
//	-----BEGIN CERTIFICATE----- ... (certificate, chain and key)
//	<empty line>
//	commit ssl cert FILE     (or abort ssl cert FILE)
//	show ssl cert [FILE]
//
// One transaction is open at a time. The commit swaps the certificate of
// every bind using FILE atomically: handshakes from then on get the new
// one, established connections keep theirs. The file on disk is not
// written: a reload reads the file again (update it too).

type sslTxn struct {
	path string
	cert *tlsx.Cert
}

// maxPayload bounds a payload (a certificate chain and key).
const maxPayload = 256 << 10

// readPayload: a line ending with "<<" is followed by a payload that ends
// at the first empty line.
func readPayload(r *bufio.Reader, line string) (string, string, bool) {
	trimmed := strings.TrimRight(line, " \t")
	if !strings.HasSuffix(trimmed, "<<") {
		return line, "", false
	}
	var b strings.Builder
	for b.Len() < maxPayload {
		l, err := readLine(r)
		if l == "" || err != nil {
			b.WriteString(l)
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(trimmed, "<<"), b.String(), true
}

// ExecPayload runs a command that carries a payload.
func (s *Server) ExecPayload(line, payload string, lvl Level) string {
	cmd, err := Parse(line)
	if err == nil && cmd.Op != OpSetSSLCert && cmd.Op != OpAddMap && cmd.Op != OpAddACL {
		return "This command does not take a payload.\n\n"
	}
	if err != nil {
		return s.Exec(line, lvl)
	}
	if cmd.Level() > lvl {
		return "Permission denied\n\n"
	}
	cmd.Payload = payload
	out, ok := s.runSSL(cmd)
	if !ok {
		out, _ = s.runMaps(cmd) // add map|acl FILE << (maps.go)
	}
	return out + "\n"
}

func parseSSL(w []string) (Command, bool, error) {
	if len(w) < 3 || w[1] != "ssl" || w[2] != "cert" {
		return Command{}, false, nil
	}
	ops := map[string]Op{"set": OpSetSSLCert, "commit": OpCommitSSLCert, "abort": OpAbortSSLCert, "show": OpShowSSLCert}
	op, ok := ops[w[0]]
	if !ok {
		return Command{}, false, nil
	}
	c := Command{Op: op}
	switch {
	case len(w) == 4:
		c.File = w[3]
	case len(w) == 3 && op == OpShowSSLCert:
	default:
		return c, true, fmt.Errorf("'%s ssl cert' expects a filename", w[0])
	}
	return c, true, nil
}

// runSSL runs an ssl cert command; ok is false for other commands.
func (s *Server) runSSL(cmd Command) (string, bool) {
	switch cmd.Op {
	case OpSetSSLCert, OpCommitSSLCert, OpAbortSSLCert, OpShowSSLCert:
	default:
		return "", false
	}
	reg := s.rt.TLS
	if reg == nil {
		return "No TLS bind in this configuration.\n", true
	}
	s.sslMu.Lock()
	defer s.sslMu.Unlock()
	switch cmd.Op {
	case OpSetSSLCert:
		return s.setSSLCert(reg, cmd), true
	case OpCommitSSLCert:
		return s.commitSSLCert(reg, cmd.File), true
	case OpAbortSSLCert:
		if s.sslTxn == nil || s.sslTxn.path != cmd.File {
			return "No ongoing transaction!\n", true
		}
		s.sslTxn = nil
		return "Transaction aborted for certificate '" + cmd.File + "'!\n", true
	}
	return showSSLCert(reg, s.sslTxn, cmd.File), true
}

func (s *Server) setSSLCert(reg *tlsx.Registry, cmd Command) string {
	if reg.Lookup(cmd.File) == nil {
		return "Can't replace a certificate which is not referenced by the configuration!\n"
	}
	if s.sslTxn != nil && s.sslTxn.path != cmd.File {
		return "The ongoing transaction is about '" + s.sslTxn.path + "' but you are trying to set '" + cmd.File + "'\n"
	}
	pem := []byte(cmd.Payload)
	c, err := tlsx.ParseCert(cmd.File, pem, pem)
	if err != nil {
		return "unable to load the certificate and its key from the payload: " + err.Error() + "\n"
	}
	verb := "created"
	if s.sslTxn != nil {
		verb = "updated"
	}
	s.sslTxn = &sslTxn{path: cmd.File, cert: c}
	return "Transaction " + verb + " for certificate " + cmd.File + "!\n"
}

func (s *Server) commitSSLCert(reg *tlsx.Registry, file string) string {
	if s.sslTxn == nil || s.sslTxn.path != file {
		return "No ongoing transaction! !\n"
	}
	if err := reg.Replace(file, s.sslTxn.cert); err != nil {
		return "Committing " + file + "\nError: " + err.Error() + "\n"
	}
	s.sslTxn = nil
	s.log.Info("admin: certificate replaced", "file", file)
	return "Committing " + file + "\nSuccess!\n"
}

func showSSLCert(reg *tlsx.Registry, txn *sslTxn, file string) string {
	var b strings.Builder
	if file == "" {
		if txn != nil {
			b.WriteString("# transaction\n*" + txn.path + "\n")
		}
		b.WriteString("# filename\n")
		for _, f := range reg.Files() {
			b.WriteString(f + "\n")
		}
		return b.String()
	}
	var c *tlsx.Cert
	status := "Used"
	if name, ok := strings.CutPrefix(file, "*"); ok {
		if txn == nil || txn.path != name {
			return "Can't display a certificate which is not referenced by the configuration!\n"
		}
		c, status = txn.cert, "Uncommitted"
	} else if sl := reg.Lookup(file); sl != nil {
		c = sl.Cert()
	} else {
		return "Can't display a certificate which is not referenced by the configuration!\n"
	}
	writeCertDetails(&b, file, status, c.TLS.Leaf)
	return b.String()
}

func writeCertDetails(b *strings.Builder, file, status string, leaf *x509.Certificate) {
	fmt.Fprintf(b, "Filename: %s\nStatus: %s\n", file, status)
	fmt.Fprintf(b, "Serial: %X\n", leaf.SerialNumber)
	fmt.Fprintf(b, "notBefore: %s\nnotAfter: %s\n", leaf.NotBefore.UTC().Format("Jan _2 15:04:05 2006 GMT"), leaf.NotAfter.UTC().Format("Jan _2 15:04:05 2006 GMT"))
	if len(leaf.DNSNames) > 0 {
		b.WriteString("Subject Alternative Name: DNS:" + strings.Join(leaf.DNSNames, ", DNS:") + "\n")
	}
	fmt.Fprintf(b, "Algorithm: %s\n", leaf.PublicKeyAlgorithm)
	fmt.Fprintf(b, "SHA1 FingerPrint: %X\n", sha1.Sum(leaf.Raw))
	fmt.Fprintf(b, "Subject: %s\nIssuer: %s\n", tlsx.DN(leaf.RawSubject), tlsx.DN(leaf.RawIssuer))
}
