// Package admin is the runtime API on `stats socket PATH [mode M] [level L]`
// (and an optional loopback TCP address), speaking HAProxy's command syntax
// so existing scripts and runbooks keep working: show info, show stat, show
// servers state, disable|enable server, set server ... state|weight, set
// weight, set maxconn server, shutdown sessions server, help. Changes made
// here are written to a state file beside the socket and reapplied by the
// next configuration generation, so they survive a reload.
package admin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Level is a CLI access level, as `level user|operator|admin`.
type Level int

const (
	LevelUser Level = iota
	LevelOperator
	LevelAdmin
)

// ParseLevel parses a `level` keyword.
func ParseLevel(s string) (Level, error) {
	switch s {
	case "user":
		return LevelUser, nil
	case "operator":
		return LevelOperator, nil
	case "admin":
		return LevelAdmin, nil
	}
	return 0, fmt.Errorf("admin: level %q: want user, operator or admin", s)
}

func (l Level) String() string {
	return [...]string{"user", "operator", "admin"}[l]
}

// Op is a parsed command's verb.
type Op int

const (
	OpHelp Op = iota
	OpShowInfo
	OpShowStat
	OpShowServersState
	OpSetAdmin      // disable/enable server, set server B/S state X
	OpSetWeight     // set server B/S weight N[%], set weight B/S N[%]
	OpSetMaxConn    // set maxconn server B/S N
	OpShutdownSess  // shutdown sessions server B/S
	OpShowPolicies  // show policies
	OpShowPolicyVar // show policy var FILE
	OpSetPolicyVar  // set policy var FILE KEY VALUE
	OpDelPolicyVar  // del policy var FILE KEY
	OpSetSSLCert    // set ssl cert FILE <<payload
	OpCommitSSLCert // commit ssl cert FILE
	OpAbortSSLCert  // abort ssl cert FILE
	OpShowSSLCert   // show ssl cert [FILE]
	OpGetVar        // get var proc.NAME
	OpSetVar        // set var proc.NAME [expr] EXPR (experimental mode)
	OpSetAddr       // set server B/S addr IP [port P] (setaddr.go)
	OpSetFQDN       // set server B/S fqdn NAME (setaddr.go)
	OpAddServer     // add server B/S ADDR ... (dynserver.go)
	OpDelServer     // del server B/S (dynserver.go)
	OpSetHealth     // enable|disable health B/S (dynserver.go)
	OpGetSocks      // _getsocks: the listeners for a successor's -x, served on the connection itself, never through Exec (getsocks.go)
	OpReload        // reload: reload the configuration files, admin level (reload.go)
	OpShowResolvers // show resolvers [ID] (resolvers.go)
	OpShowPeers     // show peers [SECTION] (peers.go)
)

// Command is one parsed CLI command.
type Command struct {
	Op       Op
	Backend  string
	Server   string
	State    string // ready, drain, maint
	N        int64  // weight or maxconn
	Percent  bool   // weight given as N%
	JSON     bool   // show stat json
	Proxy    string // show stat / show servers state filter
	TypeMask int    // show stat type mask (-1 all)
	SID      int    // show stat server id (-1 all)
	Policy   string // policy file (policy var commands)
	Key      string
	Value    string
	File     string   // ssl cert commands
	Payload  string   // set ssl cert: the PEM after "<<"
	Args     []string // add server: the keywords after the address
	Ver      string   // map and acl commands: "@N" (maps.go)
}

// Level is the access level a command needs, as in HAProxy: reading is
// allowed to users, changing server state needs admin.
func (c Command) Level() Level {
	switch c.Op {
	case OpHelp, OpShowInfo, OpShowStat, OpShowServersState, OpShowPolicies, OpShowPolicyVar, OpShowResolvers, OpShowPeers:
		return LevelUser
	case OpShowSSLCert, OpGetVar, OpSetVar:
		return LevelOperator // HAProxy's level for get/set var
	case OpShowTable, OpClearTable, OpSetTable:
		return tableLevel(c.Op)
	case OpShowMap, OpShowACL, OpGetMap, OpGetACL, OpAddMap, OpAddACL, OpSetMap, OpDelMap, OpDelACL, OpClearMap, OpClearACL, OpPrepareMap, OpPrepareACL, OpCommitMap, OpCommitACL:
		return mapLevel(c.Op)
	}
	return LevelAdmin
}

// ErrUnknown is returned for a command the CLI does not know.
var ErrUnknown = errors.New("Unknown command")

// SplitLine splits an input line into commands on unescaped ';' (HAProxy
// lets one line carry several commands).
func SplitLine(line string) []string {
	var out []string
	var cur strings.Builder
	esc := false
	for _, r := range line {
		switch {
		case esc:
			if r == ' ' || r == '\t' || r == '\\' {
				cur.WriteRune('\\') // kept for Parse's words (fields, maps.go)
			}
			cur.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == ';':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	out = append(out, cur.String())
	res := out[:0]
	for _, s := range out {
		if strings.TrimSpace(s) != "" {
			res = append(res, s)
		}
	}
	return res
}

// Parse parses one command (no ';').
func Parse(line string) (Command, error) {
	w := fields(line) // words split on unescaped blanks (maps.go)
	if len(w) == 0 {
		return Command{}, ErrUnknown
	}
	if c, ok, err := parseSSL(w); ok {
		return c, err
	}
	switch {
	case w[0] == "_getsocks":
		return Command{Op: OpGetSocks}, nil
	case len(w) == 1 && w[0] == "reload":
		return Command{Op: OpReload}, nil
	case w[0] == "help":
		return Command{Op: OpHelp}, nil
	case len(w) >= 2 && w[0] == "show" && w[1] == "peers":
		return parseShowPeers(w[2:]) // peers.go
	case len(w) >= 2 && w[0] == "show" && w[1] == "resolvers":
		return parseShowResolvers(w[2:]) // resolvers.go
	case len(w) == 2 && w[0] == "show" && w[1] == "cache":
		return Command{Op: OpShowCache}, nil // cache.go
	case len(w) >= 2 && w[0] == "show" && w[1] == "info":
		return Command{Op: OpShowInfo}, nil
	case len(w) >= 2 && w[0] == "show" && w[1] == "stat":
		return parseShowStat(w[2:])
	case len(w) >= 3 && w[0] == "show" && w[1] == "servers" && w[2] == "state":
		c := Command{Op: OpShowServersState}
		if len(w) > 4 {
			return c, errors.New("Usage: show servers state [<backend>]")
		}
		if len(w) == 4 {
			c.Proxy = w[3]
		}
		return c, nil
	case len(w) >= 2 && (w[0] == "disable" || w[0] == "enable") && w[1] == "server":
		if len(w) != 3 {
			return Command{}, errors.New("Require 'backend/server'.")
		}
		b, s, err := splitBS(w[2])
		st := "maint"
		if w[0] == "enable" {
			st = "ready"
		}
		return Command{Op: OpSetAdmin, Backend: b, Server: s, State: st}, err
	case len(w) >= 2 && (w[0] == "add" || w[0] == "del") && w[1] == "server":
		return parseDynServer(w)
	case len(w) >= 2 && (w[0] == "enable" || w[0] == "disable") && w[1] == "health":
		return parseHealth(w)
	case len(w) >= 2 && w[0] == "set" && w[1] == "server":
		return parseSetServer(w[2:])
	case len(w) >= 2 && w[0] == "set" && w[1] == "weight":
		if len(w) != 4 {
			return Command{}, errors.New("Require 'backend/server' and 'weight' or 'weight%'.")
		}
		b, s, err := splitBS(w[2])
		if err != nil {
			return Command{}, err
		}
		return weightCmd(b, s, w[3])
	case len(w) >= 3 && w[0] == "set" && w[1] == "maxconn" && w[2] == "server":
		if len(w) != 5 {
			return Command{}, errors.New("Require 'backend/server' and 'maxconn'.")
		}
		b, s, err := splitBS(w[3])
		if err != nil {
			return Command{}, err
		}
		n, err := strconv.ParseInt(w[4], 10, 64)
		if err != nil || n < 0 {
			return Command{}, errors.New("Invalid maxconn value.")
		}
		return Command{Op: OpSetMaxConn, Backend: b, Server: s, N: n}, nil
	case len(w) >= 2 && (w[0] == "show" || w[0] == "clear" || w[0] == "set") && w[1] == "table":
		return parseTable(w) // table.go
	case len(w) >= 2 && (w[1] == "map" || w[1] == "acl") && mapOps[w[0]] != [2]Op{}:
		return parseMap(w) // maps.go
	case len(w) >= 2 && w[0] == "show" && w[1] == "policies":
		if len(w) != 2 {
			return Command{}, errors.New("Usage: show policies")
		}
		return Command{Op: OpShowPolicies}, nil
	case len(w) >= 2 && (w[0] == "get" || w[0] == "set") && w[1] == "var":
		return parseVar(w)
	case len(w) >= 3 && (w[0] == "show" || w[0] == "set" || w[0] == "del") && w[1] == "policy" && w[2] == "var":
		return parsePolicyVar(w)
	case len(w) >= 3 && w[0] == "shutdown" && w[1] == "sessions" && w[2] == "server":
		if len(w) != 4 {
			return Command{}, errors.New("Require 'backend/server'.")
		}
		b, s, err := splitBS(w[3])
		return Command{Op: OpShutdownSess, Backend: b, Server: s}, err
	}
	return Command{}, ErrUnknown
}

// parsePolicyVar reads show|set|del policy var FILE [KEY [VALUE]].
func parsePolicyVar(w []string) (Command, error) {
	want := map[string]int{"show": 4, "set": 6, "del": 5}[w[0]]
	if len(w) != want {
		return Command{}, errors.New("Usage: show policy var <file> | set policy var <file> <key> <value> | del policy var <file> <key>")
	}
	c := Command{Op: OpShowPolicyVar, Policy: w[3]}
	switch w[0] {
	case "set":
		c.Op, c.Key, c.Value = OpSetPolicyVar, w[4], w[5]
	case "del":
		c.Op, c.Key = OpDelPolicyVar, w[4]
	}
	return c, nil
}

func splitBS(s string) (string, string, error) {
	b, srv, ok := strings.Cut(s, "/")
	if !ok || b == "" || srv == "" || strings.Contains(srv, "/") {
		return "", "", errors.New("Require 'backend/server'.")
	}
	return b, srv, nil
}

func parseShowStat(w []string) (Command, error) {
	c := Command{Op: OpShowStat, TypeMask: -1, SID: -1}
	if len(w) > 0 && (w[len(w)-1] == "json" || w[len(w)-1] == "typed") {
		c.JSON = w[len(w)-1] == "json"
		if w[len(w)-1] == "typed" {
			return c, errors.New("show stat typed is not supported; use json")
		}
		w = w[:len(w)-1]
	}
	switch len(w) {
	case 0:
		return c, nil
	case 3:
		c.Proxy = w[0]
		tm, err1 := strconv.Atoi(w[1])
		sid, err2 := strconv.Atoi(w[2])
		if err1 != nil || err2 != nil {
			return c, errors.New("Usage: show stat [{<iid>|<proxy>} <type> <sid>] [json]")
		}
		c.TypeMask, c.SID = tm, sid
		return c, nil
	}
	return c, errors.New("Usage: show stat [{<iid>|<proxy>} <type> <sid>] [json]")
}

func parseSetServer(w []string) (Command, error) {
	if len(w) < 2 {
		return Command{}, errors.New("'set server <srv>' only supports 'agent', 'health', 'state', 'weight', 'addr', 'fqdn', 'check-addr', 'check-port', 'ssl' and 'agent-check'.")
	}
	b, s, err := splitBS(w[0])
	if err != nil {
		return Command{}, err
	}
	switch w[1] {
	case "state":
		if len(w) != 3 {
			return Command{}, errors.New("'set server <srv> state' expects 'ready', 'drain' and 'maint'.")
		}
		switch w[2] {
		case "ready", "drain", "maint":
			return Command{Op: OpSetAdmin, Backend: b, Server: s, State: w[2]}, nil
		}
		return Command{}, errors.New("'set server <srv> state' expects 'ready', 'drain' and 'maint'.")
	case "addr", "fqdn":
		return parseSetAddr(b, s, w[1:])
	case "weight":
		if len(w) != 3 {
			return Command{}, errors.New("Require 'backend/server' and 'weight' or 'weight%'.")
		}
		return weightCmd(b, s, w[2])
	}
	return Command{}, fmt.Errorf("'set server <srv> %s' is not supported by varde (supported: state, weight, addr, fqdn).", w[1])
}

func weightCmd(b, s, v string) (Command, error) {
	c := Command{Op: OpSetWeight, Backend: b, Server: s}
	if strings.HasSuffix(v, "%") {
		c.Percent = true
		v = v[:len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (!c.Percent && n > 256) || (c.Percent && n > 100) {
		return Command{}, errors.New("Invalid weight value.")
	}
	c.N = n
	return c, nil
}

// Help is the `help` output.
const Help = `The following commands are valid at this level:
  help                                    : this message
  show info                               : report information about the running process
  show stat [{<iid>|<proxy>} <type> <sid>] [json] : report counters for each proxy and server
  show servers state [<backend>]          : dump volatile server information
  show cache                              : show cache status
  show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)
  show peers [<peers section>]            : dump the peers sections and their sessions' status
  clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)
  set table <table> key <k> [data.* <v>]* : update or create a table entry's data
  show map [<map>]                        : report available maps or dump a map's contents
  show acl [<acl>]                        : report available acls or dump an acl's contents
  get map <map> <value>                   : report the keys and values matching a sample for a map
  get acl <acl> <value>                   : report the patterns matching a sample for an ACL
  add map <map> <key> <val>               : add a map entry (payload supported instead of key/val)
  add acl <acl> <pattern>                 : add an acl entry
  set map <map> [<key>|#<ref>] <value>    : modify a map entry
  del map <map> [<key>|#<ref>]            : delete map entries matching <key>
  del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>
  clear map <map>                         : clear the contents of this map
  clear acl <acl>                         : clear the contents of this acl
  prepare map|acl <file>                  : prepare a new version for atomic replacement
  commit map|acl @<ver> <file>            : commit the map or acl at this version
  disable server <bk>/<srv>               : put a server in maintenance mode
  enable server <bk>/<srv>                : take a server out of maintenance mode
  set server <bk>/<srv> state <st>        : set the server's admin state: ready, drain, maint
  set server <bk>/<srv> weight <w>[%]     : change a server's weight
  set server <bk>/<srv> addr <ip> [port <port>] : change a server's address and port
  add server <bk>/<srv> <addr>:<port> [kw] : create a new server (in maintenance)
  del server <bk>/<srv>                   : remove a server in maintenance
  disable health <bk>/<srv>               : disable health checks
  enable health <bk>/<srv>                : enable health checks
  set weight <bk>/<srv> <w>[%]            : change a server's weight (deprecated)
  set maxconn server <bk>/<srv> <n>       : change a server's maxconn setting
  shutdown sessions server <bk>/<srv>     : kill sessions on a server
  reload                                  : reload the configuration files (Success=1, or Success=0 and the errors)
  show policies                           : calls, errors by reason and p99 of each policy entry point
  show policy var <file>                  : the shared values of a policy
  set policy var <file> <key> <value>     : set a policy's shared value (numbers stay numbers)
  del policy var <file> <key>             : remove a policy's shared value
  get var <name>                          : retrieve contents of a process-wide variable
  set var <name> [expr] <expr>            : set a process-wide variable (experimental mode: experimental-mode on)
  set ssl cert <certfile> <payload>       : replace a certificate file (transaction)
  commit ssl cert <certfile>              : commit a certificate file
  abort ssl cert <certfile>               : abort a transaction for a certificate file
  show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file
`
