package proxy

// `http-send-name-header NAME`, as HAProxy 2.6: every occurrence of the
// header the client sent is removed (appendRequestFields skips them) and
// one is added last, holding the name of the server the request is about
// to be sent to. The head is rebuilt for each attempt, so a retry or a
// redispatch to another server carries that server's name.

func appendSendName(o []byte, x *xchg) []byte {
	sn := x.b.cfg.SendName
	if sn == "" || x.srv == nil {
		return o
	}
	o = append(o, sn...)
	o = append(o, ':', ' ')
	o = append(o, x.srv.Name...)
	return append(o, '\r', '\n')
}
