package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// report prints the summary table, then the blockers by frequency (counted
// once per file, only over files the original (HAProxy, keepalived) accepts), then optionally a
// row per file.
func report(w io.Writer, rs []result, perFile bool) {
	fmt.Fprintln(w, "| kind | files | original refuses | checked | varde clean | advisory warnings only | not enforced | refused |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, k := range []Kind{HAProxy, Keepalived} {
		var files, haNo, checked int
		by := map[Verdict]int{}
		for _, r := range rs {
			if r.Kind != k {
				continue
			}
			files++
			if !r.HAProxyOK {
				haNo++
				continue
			}
			checked++
			by[r.Verdict]++
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d |\n", k, files, haNo, checked,
			by[Clean], by[Advisory], by[NotEnforced], by[Refused])
	}
	blockers(w, rs, "Errors (keyword: files refused)", func(r result) []string { return r.Errors })
	blockers(w, rs, "Not enforced (keyword: files)", func(r result) []string { return r.NotEnforced })
	if perFile {
		fmt.Fprintln(w, "\n| file | kind | original | varde | keywords |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, r := range rs {
			ha := "ok"
			if !r.HAProxyOK {
				ha = "refuses: " + strings.ReplaceAll(r.HAProxyWhy, "|", "/")
			}
			kws := append(append([]string{}, r.Errors...), r.NotEnforced...)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", filepath.Base(r.File), r.Kind, ha, r.Verdict, strings.Join(kws, ", "))
		}
	}
}

func blockers(w io.Writer, rs []result, title string, pick func(result) []string) {
	count := map[string]int{}
	for _, r := range rs {
		if !r.HAProxyOK {
			continue
		}
		for _, kw := range pick(r) {
			count[kw]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(w, "\n%s:\n\n", title)
	if len(keys) == 0 {
		fmt.Fprintln(w, "- none")
	}
	for _, k := range keys {
		fmt.Fprintf(w, "- %s: %d\n", k, count[k])
	}
}
