// Command gencompletion writes varde's bash completion from a built varde
// binary's own help: `varde help` for the commands, `varde CMD --help` for
// each command's usage line and flags, `varde -c --help` for HAProxy's
// command line. Generated at package build time, the completion cannot
// drift from the binary it ships with.
//
//	go run ./packaging/gencompletion BINARY > varde.bash
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencompletion VARDE-BINARY")
		os.Exit(2)
	}
	t, err := readTable(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "gencompletion: %v\n", err)
		os.Exit(1)
	}
	writeScript(os.Stdout, t)
}

// scope is one place flags are completed: "" (HAProxy's command line),
// a command ("run") or a command's subcommand ("logs audit").
type scope struct {
	key      string
	subs     []string // subcommands, from the usage line's alternatives
	flags    []flagInfo
	posFiles bool // positional arguments are files
}

type flagInfo struct {
	spelled string   // as typed: -f, --log-format
	value   bool     // takes a value
	files   bool     // the value is a path
	choices []string // the value is one of these
}

type table struct {
	commands []string
	scopes   []scope
}

// helpOf runs the binary and returns what it printed: --help goes to
// stdout with exit 0, a bare subcommand list may go to stderr.
func helpOf(bin string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if _, exit := err.(*exec.ExitError); !exit {
			return "", fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
		}
	}
	return out.String(), nil
}

var commandLine = regexp.MustCompile(`^  ([a-z][a-z-]*) +\S`)

func readTable(bin string) (*table, error) {
	top, err := helpOf(bin, "help")
	if err != nil {
		return nil, err
	}
	t := &table{}
	inCommands := false
	for _, l := range strings.Split(top, "\n") {
		if strings.HasPrefix(l, "Commands:") {
			inCommands = true
			continue
		}
		if m := commandLine.FindStringSubmatch(l); inCommands && m != nil {
			t.commands = append(t.commands, m[1])
		}
	}
	if len(t.commands) == 0 {
		return nil, fmt.Errorf("`%s help` lists no command", bin)
	}
	ha, err := helpOf(bin, "-c", "--help")
	if err != nil {
		return nil, err
	}
	t.scopes = append(t.scopes, parseScope("", ha, true))
	for _, c := range t.commands {
		if err := t.addCommand(bin, c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *table) addCommand(bin, c string) error {
	h, err := helpOf(bin, c, "--help")
	if err != nil {
		return err
	}
	s := parseScope(c, h, false)
	t.scopes = append(t.scopes, s)
	for _, sub := range s.subs {
		sh, err := helpOf(bin, c, sub, "--help")
		if err != nil {
			return err
		}
		ss := parseScope(c+" "+sub, sh, false)
		ss.subs = nil
		if !strings.Contains(sh, "Usage: varde "+c+" "+sub) {
			// `varde policy test --help` prints the command's own help:
			// the subcommand has no flags of its own.
			ss.flags = nil
		}
		t.scopes = append(t.scopes, ss)
	}
	return nil
}

var (
	flagLine   = regexp.MustCompile(`^  -([A-Za-z][A-Za-z0-9-]*)(?: (\S+))?`)
	choiceWord = regexp.MustCompile(`^[a-z0-9]+(\|[a-z0-9]+)+$`)
)

// parseScope reads one help text: its first "Usage:" line and the flag
// lines of flag.PrintDefaults.
func parseScope(key, help string, haproxy bool) scope {
	s := scope{key: key}
	var usage string
	for _, l := range strings.Split(help, "\n") {
		if usage == "" && strings.HasPrefix(l, "Usage: ") {
			usage = strings.TrimPrefix(l, "Usage: varde")
			usage = strings.TrimPrefix(strings.TrimSpace(usage), key)
		}
		m := flagLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		f := flagInfo{spelled: "-" + m[1], value: m[2] != ""}
		if !haproxy && len(m[1]) > 1 && !strings.Contains(usage, " -"+m[1]) && !strings.HasPrefix(usage, "-"+m[1]) && !strings.Contains(usage, "[-"+m[1]) {
			f.spelled = "--" + m[1]
		}
		if f.value {
			f.files, f.choices = valueKind(m[1], m[2], usage)
		}
		s.flags = append(s.flags, f)
	}
	s.subs, s.posFiles = positionals(usage)
	return s
}

// valueKind says what a flag's value is, preferring the usage line's
// placeholder ("--log-format text|json") to PrintDefaults' type name.
func valueKind(name, placeholder, usage string) (files bool, choices []string) {
	words := strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(usage))
	for i, w := range words {
		if (w == "-"+name || w == "--"+name) && i+1 < len(words) {
			placeholder = words[i+1]
			break
		}
	}
	if choiceWord.MatchString(placeholder) {
		return false, strings.Split(placeholder, "|")
	}
	return isFileWord(placeholder) || strings.Contains(placeholder, "SOCKET"), nil
}

func isFileWord(w string) bool {
	w = strings.TrimSuffix(w, "...")
	return strings.Contains(w, "FILE") || strings.Contains(w, "PATH") || strings.Contains(w, "DIR") ||
		w == "IN" || w == "OUT" || strings.Contains(w, ".")
}

// positionals reads a usage line's words that are neither flags nor flag
// values: lower-case ones leading an alternative are subcommands
// ("audit PATH... | anonymize IN"), upper-case ones naming files mean
// file completion.
func positionals(usage string) (subs []string, files bool) {
	for _, alt := range strings.Split(usage, " | ") {
		words := strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(alt))
		if len(words) > 0 && regexp.MustCompile(`^[a-z][a-z-]*$`).MatchString(words[0]) {
			subs = append(subs, words[0])
		}
		for i, w := range words {
			afterFlag := i > 0 && strings.HasPrefix(words[i-1], "-")
			if !strings.HasPrefix(w, "-") && !afterFlag && w != "..." && isFileWord(w) {
				files = true
			}
		}
	}
	return subs, files
}

func writeScript(w io.Writer, t *table) {
	fmt.Fprintf(w, `# bash completion for varde. Generated by packaging/gencompletion from the
# binary's own help (varde help, varde COMMAND --help); do not edit.

_varde_scope() {
    # The scope of the word being completed: "" (HAProxy's command line),
    # a command, or "command subcommand".
    local c=${COMP_WORDS[1]}
    if (( COMP_CWORD < 2 )) || [[ $c == -* ]]; then
        echo ""
        return
    fi
    if (( COMP_CWORD > 2 )); then
        case "$c ${COMP_WORDS[2]}" in
%s        esac
    fi
    echo "$c"
}

_varde() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} scope flags="" subs="" files=""
    COMPREPLY=()
    scope=$(_varde_scope)
    case "$scope|$prev" in
%s    esac
    case "$scope" in
%s    esac
    if (( COMP_CWORD == 1 )) && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "%s help" -- "$cur"))
    elif [[ $scope == help ]] && (( COMP_CWORD == 2 )); then
        COMPREPLY=($(compgen -W "%s" -- "$cur"))
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
    elif [[ -n $subs ]] && (( COMP_CWORD == 2 )); then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    elif [[ -n $files ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _varde varde
`, subCases(t), valueCases(t), scopeCases(t), strings.Join(t.commands, " "), strings.Join(t.commands, " "))
}

func subCases(t *table) string {
	var keys []string
	for _, s := range t.scopes {
		if strings.Contains(s.key, " ") {
			keys = append(keys, fmt.Sprintf("%q", s.key))
		}
	}
	if len(keys) == 0 {
		return ""
	}
	return "            " + strings.Join(keys, "|") + ")\n" +
		"            echo \"$c ${COMP_WORDS[2]}\"; return ;;\n"
}

// valueCases completes a flag's value: its choices, files, or nothing.
func valueCases(t *table) string {
	var b strings.Builder
	for _, s := range t.scopes {
		for _, f := range s.flags {
			if !f.value {
				continue
			}
			alts := fmt.Sprintf("%q", s.key+"|"+f.spelled)
			if !strings.HasPrefix(f.spelled, "--") {
				alts += fmt.Sprintf("|%q", s.key+"|-"+f.spelled) // Go's flag package takes --f too
			} else {
				alts += fmt.Sprintf("|%q", s.key+"|"+f.spelled[1:])
			}
			switch {
			case len(f.choices) > 0:
				fmt.Fprintf(&b, "        %s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", alts, strings.Join(f.choices, " "))
			case f.files:
				fmt.Fprintf(&b, "        %s) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return ;;\n", alts)
			default:
				fmt.Fprintf(&b, "        %s) return ;;\n", alts)
			}
		}
	}
	return b.String()
}

func scopeCases(t *table) string {
	var b strings.Builder
	for _, s := range t.scopes {
		var names []string
		for _, f := range s.flags {
			names = append(names, f.spelled)
		}
		if s.key == "" {
			names = append(names, "-h", "--version")
		}
		sort.Strings(names)
		files := ""
		if s.posFiles {
			files = "yes"
		}
		fmt.Fprintf(&b, "        %q) flags=%q subs=%q files=%q ;;\n", s.key, strings.Join(names, " "), strings.Join(s.subs, " "), files)
	}
	return b.String()
}
