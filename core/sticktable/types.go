package sticktable

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DataType is one of HAProxy's stick-table data types, numbered as
// HAProxy numbers them: `show table` lists them in this order.
type DataType uint8

const (
	ServerID DataType = iota
	GPT0
	GPC0
	GPC0Rate
	ConnCnt
	ConnRate
	ConnCur
	SessCnt
	SessRate
	HTTPReqCnt
	HTTPReqRate
	HTTPErrCnt
	HTTPErrRate
	BytesInCnt
	BytesInRate
	BytesOutCnt
	BytesOutRate
	GPC1
	GPC1Rate
	numTypes
)

var typeNames = [numTypes]string{
	"server_id", "gpt0", "gpc0", "gpc0_rate", "conn_cnt", "conn_rate", "conn_cur",
	"sess_cnt", "sess_rate", "http_req_cnt", "http_req_rate", "http_err_cnt",
	"http_err_rate", "bytes_in_cnt", "bytes_in_rate", "bytes_out_cnt",
	"bytes_out_rate", "gpc1", "gpc1_rate",
}

func (d DataType) String() string { return typeNames[d] }

// IsRate reports whether the type is a frequency counter with a period.
func (d DataType) IsRate() bool {
	switch d {
	case GPC0Rate, ConnRate, SessRate, HTTPReqRate, HTTPErrRate, BytesInRate, BytesOutRate, GPC1Rate:
		return true
	}
	return false
}

// LookupType returns the data type named name.
func LookupType(name string) (DataType, bool) {
	for i, n := range typeNames {
		if n == name {
			return DataType(i), true
		}
	}
	return 0, false
}

// TypeNames lists the data types varde stores.
func TypeNames() []string { return typeNames[:] }

// KeyType is the type of a table's keys.
type KeyType uint8

const (
	KeyIP KeyType = iota
	KeyIPv6
	KeyInteger
	KeyString
	KeyBinary
)

var keyNames = [...]string{"ip", "ipv6", "integer", "string", "binary"}

func (k KeyType) String() string { return keyNames[k] }

// Store is one `store` item: a data type and, for rates, its period.
type Store struct {
	Type   DataType
	Period time.Duration
}

// Def is a table's definition (`stick-table ...`). Two definitions that
// are equal describe the same table: a reload keeps its entries.
type Def struct {
	Name    string
	Key     KeyType
	KeyLen  int // string and binary keys: bytes kept (default 32)
	Size    int
	Expire  time.Duration // 0: entries never expire
	NoPurge bool
	Store   []Store
}

// Equal reports whether d and o define the same table.
func (d *Def) Equal(o *Def) bool {
	if d.Name != o.Name || d.Key != o.Key || d.KeyLen != o.KeyLen || d.Size != o.Size ||
		d.Expire != o.Expire || d.NoPurge != o.NoPurge || len(d.Store) != len(o.Store) {
		return false
	}
	for i := range d.Store {
		if d.Store[i] != o.Store[i] {
			return false
		}
	}
	return true
}

// ParseStore parses one item of a `store` list: `gpc0`, `http_req_rate(10s)`.
func ParseStore(item string, parseDur func(string) (time.Duration, error)) (Store, error) {
	name, arg, hasArg := strings.Cut(item, "(")
	t, ok := LookupType(name)
	if !ok {
		return Store{}, fmt.Errorf("unknown data type %q", name)
	}
	if !t.IsRate() {
		if hasArg {
			return Store{}, fmt.Errorf("data type %s takes no argument", name)
		}
		return Store{Type: t}, nil
	}
	if !hasArg || !strings.HasSuffix(arg, ")") {
		return Store{}, fmt.Errorf("data type %s needs a period: %s(10s)", name, name)
	}
	p, err := parseDur(strings.TrimSuffix(arg, ")"))
	if err != nil || p <= 0 {
		return Store{}, fmt.Errorf("data type %s: bad period %q", name, strings.TrimSuffix(arg, ")"))
	}
	return Store{Type: t, Period: p}, nil
}

// ParseSize parses a table size: a number with an optional k, m or g
// suffix (powers of 1024, as HAProxy reads them).
func ParseSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1024, s[:len(s)-1]
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult, s = 1024*1024, s[:len(s)-1]
	case strings.HasSuffix(s, "g"), strings.HasSuffix(s, "G"):
		mult, s = 1024*1024*1024, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > (1<<31-1)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
