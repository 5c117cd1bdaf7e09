package sample

import (
	"github.com/varde-lb/varde/core/userlist"
)

// UserLists is what the engine's request views give the http_auth
// fetches: the configuration's userlists by name.
type UserLists interface {
	UserList(name string) *userlist.List
}

// ProxyRequest is what a request view says about `option
// http-use-proxy-header`: a proxy request's credentials come in
// Proxy-Authorization, as in HAProxy 2.6 (TX_USE_PX_CONN).
type ProxyRequest interface {
	ProxyConnection() bool
}

// http_auth(L) is true when the request's Basic credentials are a user of
// userlist L with its password; http_auth_group(L) yields that user's
// name, and in an ACL (`http_auth_group(L) G1 G2`) matches when the user
// belongs to one of the groups. Both give no sample without valid
// credentials, as in HAProxy 2.6.
func init() {
	RegisterFetch(&Fetch{Name: "http_auth", MinArgs: 1, MaxArgs: 1, Out: TypeBool, Where: atReq,
		ReqHeader: header("authorization"),
		Doc:       "true when the Basic credentials are valid for the userlist",
		Eval: func(c *Ctx, a *Args, out *Value) bool {
			var buf [userlist.MaxCredentials]byte
			_, _, ok := authUser(c, a, buf[:])
			out.SetBool(ok)
			return true
		}})
	RegisterFetch(&Fetch{Name: "http_auth_group", MinArgs: 1, MaxArgs: 1, Out: TypeStr, Where: atReq,
		ReqHeader: header("authorization"),
		Doc:       "the authenticated user's name; as an ACL, matches the user's groups",
		EvalBuf:   fetchAuthUser,
		Each: func(c *Ctx, a *Args, v Visitor) bool {
			var buf [userlist.MaxCredentials]byte
			_, groups, ok := authUser(c, a, buf[:])
			if !ok {
				return false
			}
			var val Value
			for _, g := range groups {
				val.SetStr(g)
				if v.Visit(&val) {
					return true
				}
			}
			return false
		}})
}

func fetchAuthUser(c *Ctx, a *Args, out *Value, scratch []byte) ([]byte, bool) {
	var buf [userlist.MaxCredentials]byte
	name, _, ok := authUser(c, a, buf[:])
	if !ok {
		return scratch, false
	}
	start := len(scratch)
	scratch = append(scratch, name...)
	out.SetStr(scratch[start:])
	return scratch, true
}

// authUser checks the request's Authorization header against userlist
// a.Str[0].
func authUser(c *Ctx, a *Args, buf []byte) (name []byte, groups [][]byte, ok bool) {
	if c.Req == nil {
		return nil, nil, false
	}
	ul, _ := c.Req.(UserLists)
	if ul == nil {
		return nil, nil, false
	}
	hdr := "authorization"
	if pr, _ := c.Req.(ProxyRequest); pr != nil && pr.ProxyConnection() {
		hdr = "proxy-authorization"
	}
	h, found := c.Req.Header(hdr)
	if !found {
		return nil, nil, false
	}
	name, pass, ok := userlist.Basic(h, buf)
	if !ok {
		return nil, nil, false
	}
	groups, ok = ul.UserList(a.Str[0]).Check(name, pass)
	return name, groups, ok
}
