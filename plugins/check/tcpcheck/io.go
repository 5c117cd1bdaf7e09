package tcpcheck

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/plugins/check/tcp"
)

// connect closes the previous connection, if any, and dials the rule's
// target. A failure is reported as HAProxy's chk_report_conn_err does.
func (r *run) connect(s *step) (core.CheckResult, bool) {
	r.mu.Lock()
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	r.mu.Unlock()
	c, res := tcp.Dial(r.ctx, s.ConnectTarget(r.t, r.p.ruleTLS))
	if c == nil {
		if res.Status == "L6RSP" {
			res.Info = "SSL handshake failure" // HAProxy's conn_err_code_str, without Go's detail
		}
		if !r.p.proto {
			res.Info = r.where(res.Info)
		}
		return res, false
	}
	if dl, ok := r.ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	r.mu.Lock()
	r.conn = c
	r.mu.Unlock()
	return core.CheckResult{}, true
}

// where appends HAProxy's " at step N of tcp-check (...)" to a connection
// error text (plain tcp-check only).
func (r *run) where(msg string) string {
	s := r.cur
	if s.stepID() == 0 {
		return msg + " at initial connection step of tcp-check"
	}
	msg += fmt.Sprintf(" at step %d of tcp-check", s.stepID())
	switch s.Action {
	case "connect":
		if s.Port != 0 {
			msg += fmt.Sprintf(" (connect port %d)", s.Port)
		} else {
			msg += " (connect)"
		}
	case "send":
		msg += " (send)"
	case "expect":
		switch s.Match {
		case "string":
			msg += " (expect string '" + s.Pattern + "')"
		case "binary":
			msg += " (expect binary '" + s.Pattern + "')"
		case "rstring":
			msg += " (expect regex)"
		case "rbinary":
			msg += " (expect binary regex)"
		default:
			if s.custom != nil {
				msg += " (expect custom function)"
			}
		}
	}
	if s.Comment != "" {
		msg += " comment: '" + s.Comment + "'"
	}
	return msg
}

func (r *run) write(b []byte) error {
	_, err := r.conn.Write(b)
	return err
}

// connErr reports an I/O failure on an established connection: a timeout
// is L7TOUT (or the expect rule's tout-status), anything else SOCKERR.
func (r *run) connErr(err error) core.CheckResult {
	if tcp.IsTimeout(err) {
		st := "L7TOUT"
		if r.cur.Action == "expect" && r.cur.ToutStatus != "" {
			st = r.cur.ToutStatus
		}
		info := ""
		if !r.p.proto {
			info = r.where("")
		}
		return core.CheckResult{Status: st, Info: info}
	}
	info := errText(err)
	if !r.p.proto {
		info = r.where(info)
	}
	return core.CheckResult{Status: "SOCKERR", Info: info}
}

func errText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		return string(s[0]-32) + s[1:] // strerror capitalises: "Connection reset by peer"
	}
	return err.Error()
}

// fill reads once into the buffer. It returns an error only for a read
// failure that is not the end of the stream.
func (r *run) fill() error {
	if len(r.buf) >= bufSize || r.eof {
		return nil
	}
	if r.buf == nil {
		r.buf = make([]byte, 0, 1024)
	}
	var tmp [4096]byte
	room := bufSize - len(r.buf)
	if room > len(tmp) {
		room = len(tmp)
	}
	n, err := r.conn.Read(tmp[:room])
	r.buf = append(r.buf, tmp[:n]...)
	if err == io.EOF {
		r.eof = true
		return nil
	}
	if err != nil && !tcp.IsTimeout(err) && n == 0 && len(r.buf) > 0 {
		r.eof = true // a reset after data: let the rules judge the data
		return nil
	}
	return err
}

// expect evaluates one expect rule, reading as HAProxy does: once when a
// send or connect came before, then more only while the rule may still
// match.
func (r *run) expect(s *step, needRead bool) (core.CheckResult, bool) {
	if needRead {
		if res, ok := r.readSome(s); !ok {
			return res, false
		}
	}
	for {
		last := r.eof || len(r.buf) >= bufSize
		if !last && s.short(r.buf) {
			if res, ok := r.readSome(s); !ok {
				return res, false
			}
			continue
		}
		if s.custom != nil {
			v := s.custom(r.buf, last)
			if v.wait && !last {
				if res, ok := r.readSome(s); !ok {
					return res, false
				}
				continue
			}
			if v.ok {
				return core.CheckResult{}, true
			}
			return r.customFailed(s, v), false
		}
		match := s.match(r.buf)
		if !match && !last && s.MinRecv == -1 {
			if res, ok := r.readSome(s); !ok {
				return res, false
			}
			continue
		}
		if match != s.Negate {
			return core.CheckResult{}, true
		}
		return r.failed(s, match), false
	}
}

// readSome reads at least once; a timeout or a failure before any data
// ends the check, and a stream that ended empty is an empty response.
func (r *run) readSome(s *step) (core.CheckResult, bool) {
	if r.eof {
		return core.CheckResult{}, true
	}
	if err := r.fill(); err != nil {
		return r.connErr(err), false
	}
	if r.eof && len(r.buf) == 0 {
		st := "L7RSP"
		if s.ErrorStatus != "" {
			st = s.ErrorStatus
		}
		info := fmt.Sprintf("TCPCHK got an empty response at step %d", s.stepID())
		if s.Comment != "" {
			info += " comment: '" + s.Comment + "'"
		}
		return core.CheckResult{Status: st, Info: info}, false
	}
	return core.CheckResult{}, true
}

// short reports whether the buffer cannot be judged yet: shorter than a
// literal pattern or than min-recv.
func (s *step) short(buf []byte) bool {
	if (s.Match == "string" || s.Match == "binary") && len(buf) < len(s.pat) {
		return true
	}
	return s.MinRecv > 0 && len(buf) < s.MinRecv
}

func (s *step) match(buf []byte) bool {
	switch s.Match {
	case "string", "binary":
		return bytes.Contains(buf, s.pat)
	case "rstring":
		return s.re.Match(buf)
	case "rbinary":
		return s.re.MatchString(hexUpper(buf))
	}
	return false
}

// hexUpper is the buffer as HAProxy's dump_binary writes it for rbinary.
func hexUpper(b []byte) string {
	return string(bytes.ToUpper([]byte(hex.EncodeToString(b))))
}

// failed is the result of an expect rule that did not hold, with
// HAProxy's text (tcpcheck_expect_onerror_message).
func (r *run) failed(s *step, match bool) core.CheckResult {
	st := "L7RSP"
	if s.ErrorStatus != "" {
		st = s.ErrorStatus
	}
	res := core.CheckResult{Status: st}
	if s.code != nil {
		res.Code = s.code(r.buf)
	}
	switch {
	case s.onErr != nil:
		res.Info = s.onErr(r.buf)
	case s.OnError != "":
		res.Info = s.OnError
	case len(r.buf) == 0:
		res.Info = fmt.Sprintf("TCPCHK got an empty response at step %d", s.stepID())
	case r.p.proto:
	default:
		res.Info = mismatchText(s, match)
	}
	if s.Comment != "" {
		res.Info += " comment: " + s.Comment
	}
	return res
}

// customFailed is a packet check's failure: its own text, else HAProxy's
// default (empty response, or nothing for a protocol check).
func (r *run) customFailed(s *step, v verdict) core.CheckResult {
	res := core.CheckResult{Status: v.status, Code: v.code, Info: v.desc}
	if res.Status == "" {
		res.Status = "L7RSP"
	}
	if res.Info == "" && len(r.buf) == 0 {
		res.Info = fmt.Sprintf("TCPCHK got an empty response at step %d", s.stepID())
	}
	if s.Comment != "" {
		res.Info += " comment: " + s.Comment
	}
	return res
}

func mismatchText(s *step, match bool) string {
	msg := "TCPCHK did not match content"
	if match {
		msg = "TCPCHK matched unwanted content"
	}
	switch s.Match {
	case "string":
		return fmt.Sprintf("%s '%s' at step %d", msg, s.Pattern, s.stepID())
	case "binary":
		return fmt.Sprintf("%s (binary) at step %d", msg, s.stepID())
	case "rstring":
		return fmt.Sprintf("%s (regex) at step %d", msg, s.stepID())
	case "rbinary":
		return fmt.Sprintf("%s (binary regex) at step %d", msg, s.stepID())
	}
	return fmt.Sprintf("%s (custom function) at step %d", msg, s.stepID())
}
