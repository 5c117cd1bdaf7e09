// Package userlist checks HTTP Basic credentials against a haproxy.cfg
// `userlist` section, with HAProxy 2.6's meaning (http_auth,
// http_auth_group, `http-request auth`).
package userlist

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"github.com/varde-lb/varde/core/httpx"

	"github.com/varde-lb/varde/core/stats"
)

// List is one compiled userlist; read-only once built, shared by every
// session of a generation.
type List struct {
	Name  string
	users map[string]*user
}

type user struct {
	secret   string // crypt(3) hash, or the clear password when insecure
	insecure bool
	groups   [][]byte // every group the user belongs to, by either line
}

// New returns an empty list; Add fills it.
func New(name string) *List { return &List{Name: name, users: map[string]*user{}} }

// Add declares a user with a $5$/$6$ hash (insecure false) or a clear
// password (insecure true); a later Add of the same name replaces it.
func (l *List) Add(name, secret string, insecure bool) {
	l.users[name] = &user{secret: secret, insecure: insecure}
}

// AddToGroup records that user belongs to group; an unknown user is
// ignored (the configuration layer refuses it first).
func (l *List) AddToGroup(name, group string) {
	u := l.users[name]
	if u == nil {
		return
	}
	for _, g := range u.groups {
		if string(g) == group {
			return
		}
	}
	u.groups = append(u.groups, []byte(group))
}

// Check reports whether pass is the password of the named user; its
// groups are returned when it is.
func (l *List) Check(name, pass []byte) ([][]byte, bool) {
	if l == nil {
		return nil, false
	}
	u := l.users[string(name)]
	if u == nil {
		return nil, false
	}
	if u.insecure {
		return u.groups, subtle.ConstantTimeCompare([]byte(u.secret), pass) == 1
	}
	ok, err := stats.CryptVerify(u.secret, string(pass))
	return u.groups, ok && err == nil
}

// MaxCredentials bounds the decoded user:password an Authorization header
// may carry; longer ones are no credentials (HAProxy's bound is its
// buffer, far larger than any real password).
const MaxCredentials = 1024

// Basic decodes an `Authorization: Basic B64` value into dst (which must
// hold MaxCredentials bytes) and splits it at the first colon, as
// HAProxy's get_http_auth does.
func Basic(value, dst []byte) (name, pass []byte, ok bool) {
	value = bytes.TrimLeft(value, " \t")
	sp := bytes.IndexAny(value, " \t")
	if sp < 0 || !httpx.EqualFold(value[:sp], "basic") {
		return nil, nil, false
	}
	b64 := bytes.Trim(value[sp:], " \t")
	if base64.StdEncoding.DecodedLen(len(b64)) > len(dst) {
		return nil, nil, false
	}
	n, err := base64.StdEncoding.Decode(dst, b64)
	if err != nil {
		return nil, nil, false
	}
	cred := dst[:n]
	i := bytes.IndexByte(cred, ':')
	if i < 0 {
		return nil, nil, false
	}
	return cred[:i], cred[i+1:], true
}
