//go:build wasip1

// echo exercises every host function through the guest library: its
// choose_backend answers what header X-Ask asks for, sticky_key returns
// header X-Key, health judges by the probe's words, choose_server names
// the server whose index is in X-Index.
package main

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/policies/wasm/varde"
)

func main() {}

func opt(b []byte, ok bool) string {
	if !ok {
		return "<absent>"
	}
	return string(b)
}

//go:wasmexport choose_backend
func chooseBackend() uint64 {
	askB, ok := varde.Header("x-ask")
	if !ok {
		return varde.NoOpinion
	}
	ask := string(askB)
	verb, arg, _ := strings.Cut(ask, ":")
	var out string
	switch verb {
	case "method":
		out = string(varde.Method())
	case "path":
		out = string(varde.Path())
	case "query":
		out = string(varde.Query())
	case "host":
		out = string(varde.Host())
	case "src":
		out = string(varde.Src())
	case "ssl":
		out = strconv.FormatBool(varde.SSL())
	case "header":
		out = opt(varde.Header(arg))
	case "cookie":
		out = opt(varde.Cookie(arg))
	case "fetch":
		out = opt(varde.Fetch(arg))
	case "get":
		out = opt(varde.Get(arg))
	case "set":
		k, v, _ := strings.Cut(arg, "=")
		out = strconv.FormatBool(varde.Set(k, v, time.Minute))
	case "incr":
		out = strconv.FormatFloat(varde.Incr(arg, 1, 0), 'g', -1, 64)
	case "log":
		varde.Log(varde.LevelWarn, arg)
		out = "logged"
	case "big":
		out = strings.Repeat("x", 5000) // longer than the library's first buffer
	}
	return varde.Result(out)
}

//go:wasmexport choose_server
func chooseServer() uint64 {
	idx, ok := varde.Header("x-index")
	if !ok {
		return varde.NoOpinion
	}
	i, _ := strconv.Atoi(string(idx))
	list := varde.List()
	if i < 0 || i >= len(list) || varde.Servers() != len(list) {
		return varde.Result("bad-index")
	}
	s := varde.Server(i)
	// The per-field functions and the bulk list must agree.
	if !bytes.Equal(s.Name(), list[i].Name) || s.Weight() != list[i].Weight || s.Active() != list[i].Active || s.Usable() != list[i].Usable {
		return varde.Result("disagree")
	}
	return varde.ResultBytes(list[i].Name)
}

//go:wasmexport sticky_key
func stickyKey() uint64 {
	k, _ := varde.Header("x-key")
	return varde.ResultBytes(k)
}

//go:wasmexport health
func health() int32 {
	p := varde.Probe()
	switch {
	case bytes.Contains(varde.ProbeInfo(), []byte("degraded")):
		return varde.HealthDown
	case p.Code == 429 && string(varde.ProbeStatus()) == "L7STS" && varde.Servers() == 1 && string(varde.Server(0).Name()) == "web1":
		return varde.HealthUp
	case p.Code == 418:
		return 7 // a wrong verdict
	}
	return varde.HealthNoOpinion
}
