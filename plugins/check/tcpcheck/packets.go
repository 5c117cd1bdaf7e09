package tcpcheck

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// verdict is what a packet-parsing expect (MySQL, LDAP) decides.
type verdict struct {
	wait   bool // need more data
	ok     bool
	status string // on failure: L7RSP or L7STS
	code   int
	desc   string // on failure: the text, "" for HAProxy's default
}

func mysql(args []string) ([]step, error) {
	steps := []step{connectDefault(0)}
	idx := 1
	if len(args) > 0 {
		if args[0] != "user" || len(args) < 2 {
			return nil, fmt.Errorf("option mysql-check expects 'user <username> [{post-41|pre-41}]'")
		}
		user := args[1]
		req := "0082000000800001" + "21" + "0000000000000000000000000000000000000000000000"
		plen := len(user) + 7 + 27
		if len(args) > 2 {
			switch args[2] {
			case "post-41":
			case "pre-41":
				req, plen = "0080"+"000001", len(user)+7
			default:
				return nil, fmt.Errorf("option mysql-check user %s: %q: want post-41 or pre-41", user, args[2])
			}
		}
		body, _ := hex.DecodeString(req)
		pkt := []byte{byte(plen), byte(plen >> 8), byte(plen >> 16), 1}
		pkt = append(pkt, body...)
		pkt = append(pkt, user...)
		pkt = append(pkt, 0, 0)
		pkt = append(pkt, 1, 0, 0, 0, 1) // COM_QUIT
		steps = append(steps, send(idx, pkt))
		idx++
	}
	hs := expect(idx, "", "", -1, "")
	hs.custom = func(b []byte, last bool) verdict { return mysqlPacket(b, 0, last) }
	steps = append(steps, hs)
	if len(args) > 0 {
		ok := expect(idx+1, "", "", -1, "")
		ok.custom = func(b []byte, last bool) verdict {
			if len(b) < 3 {
				return mysqlPacket(b, 0, last)
			}
			return mysqlPacket(b, 4+int(b[0])|int(b[1])<<8|int(b[2])<<16, last)
		}
		steps = append(steps, ok)
	}
	return steps, nil
}

// mysqlPacket checks the packet at off: complete, and not an error packet
// (0xff), whose code and message are the check's code and text.
func mysqlPacket(b []byte, off int, last bool) verdict {
	if len(b) < off+4 {
		if !last {
			return verdict{wait: true}
		}
		return verdict{status: "L7RSP"}
	}
	plen := int(b[off]) | int(b[off+1])<<8 | int(b[off+2])<<16
	if len(b) < off+plen+4 {
		if !last {
			return verdict{wait: true}
		}
		return verdict{status: "L7RSP"}
	}
	if len(b) > off+4 && b[off+4] == 0xff { // an empty packet (plen 0) is not an error packet
		v := verdict{status: "L7STS"}
		if len(b) >= off+7 {
			v.code = int(b[off+5]) | int(b[off+6])<<8
			v.desc = string(b[off+7:])
		}
		return v
	}
	return verdict{ok: true}
}

// ldapBindResponse checks an LDAPv3 BindResponse with resultCode 0.
func ldapBindResponse(b []byte, last bool) verdict {
	notLDAP := verdict{status: "L7RSP", desc: "Not LDAPv3 protocol"}
	short := func() verdict {
		if !last {
			return verdict{wait: true}
		}
		return verdict{status: "L7RSP"}
	}
	if len(b) < 2 {
		return short()
	}
	p := 1
	nbytes, msglen := 0, int(b[p])
	if b[p]&0x80 != 0 {
		nbytes = int(b[p] & 0x7f)
		if len(b) < 2+nbytes {
			return short()
		}
		switch nbytes {
		case 4:
			msglen = int(binary.BigEndian.Uint32(b[p+1:]))
		case 2:
			msglen = int(binary.BigEndian.Uint16(b[p+1:]))
		default:
			return notLDAP
		}
	}
	p += 1 + nbytes
	if len(b) < 2+nbytes+msglen || len(b) < p+4 {
		return short()
	}
	if !bytes.Equal(b[p:p+4], []byte{0x02, 0x01, 0x01, 0x61}) {
		return notLDAP
	}
	p += 4
	if p >= len(b) {
		return notLDAP
	}
	if b[p]&0x80 != 0 {
		p += int(b[p] & 0x7f)
	}
	p++
	if p+3 > len(b) || b[p] != 0x0a || b[p+1] != 0x01 {
		return notLDAP
	}
	if code := int(b[p+2]); code != 0 {
		return verdict{status: "L7STS", code: code, desc: "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"}
	}
	return verdict{ok: true}
}
