package parse

import (
	"fmt"
	"strconv"
	"strings"
)

// GRES is one entry of a generic-resource list, as sinfo's Gres and GresUsed
// columns and scontrol's per-node GRES= print it:
//
//	gpu:4                     untyped
//	gpu:h100:4(S:0-3)         typed, with socket affinity
//	gpu:a100:2(IDX:0,3)       in use: which devices
//	gpu:(null):3(IDX:0-7)     untyped with devices (21.08)
//	gpu(IDX:5)                19.05 job detail: no count
//	gg:g0(CNT:1)              a count-only GRES
type GRES struct {
	Name  string // "gpu", "shard", "mps", …
	Type  string // "h100"; "" when untyped
	Count int
	Index []int // the device indices from (IDX:…); nil when not shown
}

// maxIndex bounds a device index, so that a corrupt range cannot make a
// huge list.
const maxIndex = 1 << 12

// ParseGRES parses a comma-separated GRES list. Commas inside parentheses
// belong to the entry ("gpu:2(IDX:0,3)"). "(null)", "N/A" and "" are empty
// lists. Only GPU entries must have a numeric count; others (a bandwidth
// "4G") are kept with Count 0 when it is not a plain number.
func ParseGRES(s string) ([]GRES, error) {
	s = strings.TrimSpace(s)
	if s == "(null)" || s == "N/A" || s == "" {
		return nil, nil
	}
	var list []GRES
	for item := range splitTop(s) {
		g, err := parseGRESItem(item)
		if err != nil {
			return nil, err
		}
		list = append(list, g)
	}
	return list, nil
}

// GPUCount adds up the GPU entries of a GRES list, all types together.
func GPUCount(list []GRES) int {
	n := 0
	for _, g := range list {
		if g.Name == "gpu" {
			n += g.Count
		}
	}
	return n
}

func parseGRESItem(item string) (GRES, error) {
	body, extra := item, ""
	for i := 0; i < len(item); i++ {
		if item[i] != '(' {
			continue
		}
		if strings.HasPrefix(item[i:], "(null)") { // "gpu:(null):3(IDX:0-7)": no type
			i += len("(null)") - 1
			continue
		}
		if !strings.HasSuffix(item, ")") {
			return GRES{}, fmt.Errorf("GRES %q: unclosed '('", item)
		}
		body, extra = item[:i], item[i+1:len(item)-1]
		break
	}
	// body is name[:type][:count]: "gpu", "gpu:4", "gpu:h100", "gpu:h100:4",
	// "gpu:(null):3", "bandwidth:lustre:4G".
	name, rest, _ := strings.Cut(body, ":")
	g := GRES{Name: name}
	if name == "" || strings.ContainsAny(name, "()= ") {
		return g, fmt.Errorf("GRES %q: no name", item)
	}
	typ, cnt := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		typ, cnt = rest[:i], rest[i+1:]
	} else if looksLikeCount(rest) {
		typ, cnt = "", rest
	}
	if typ != "(null)" {
		g.Type = typ
	}
	countSet := cnt != ""
	if countSet {
		n, err := strconv.Atoi(cnt)
		switch {
		case err == nil && n >= 0:
			g.Count = n
		case name == "gpu":
			return g, fmt.Errorf("GRES %q: count %q is not a number", item, cnt)
		} // other GRES may have a unit ("4G"): Count stays 0
	}
	for e := range strings.SplitSeq(extra, "(") {
		e = strings.TrimSuffix(e, ")")
		switch {
		case strings.HasPrefix(e, "IDX:"):
			idx, err := IndexList(e[len("IDX:"):])
			if err != nil {
				return g, fmt.Errorf("GRES %q: %w", item, err)
			}
			g.Index = idx
			if !countSet {
				g.Count = len(idx)
				countSet = true
			}
		case strings.HasPrefix(e, "CNT:"):
			n, err := strconv.Atoi(e[len("CNT:"):])
			if err != nil || n < 0 {
				return g, fmt.Errorf("GRES %q: bad CNT", item)
			}
			if !countSet {
				g.Count, countSet = n, true
			}
		}
	}
	if !countSet {
		g.Count = 1 // "gpu:rtx2080" in a job's request: one of them
	}
	return g, nil
}

// looksLikeCount says whether s is a count ("4", "4G", "-1") rather than a
// type name ("rtx2080", "6000pro_maxq").
func looksLikeCount(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s != "" && strings.ContainsRune("KMGTP", rune(s[len(s)-1])) {
		s = s[:len(s)-1]
	}
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IndexList parses a device index list: "0-1", "0,3", "0-3,5-7". "N/A" and
// "" are empty. The result is in the order given.
func IndexList(s string) ([]int, error) {
	if s == "N/A" || s == "" {
		return nil, nil
	}
	var idx []int
	for r := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 || a > maxIndex {
			return nil, fmt.Errorf("index %q is not a device index", r)
		}
		b := a
		if isRange {
			b, err = strconv.Atoi(hi)
			if err != nil || b < a || b > maxIndex {
				return nil, fmt.Errorf("index range %q is not a range", r)
			}
		}
		if len(idx)+b-a > maxIndex {
			return nil, fmt.Errorf("index list %q is too long", s)
		}
		for i := a; i <= b; i++ {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

// splitTop yields the comma-separated items of s, ignoring commas inside
// parentheses or brackets.
func splitTop(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		depth, start := 0, 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '(', '[':
				depth++
			case ')', ']':
				if depth > 0 {
					depth--
				}
			case ',':
				if depth == 0 {
					if !yield(s[start:i]) {
						return
					}
					start = i + 1
				}
			}
		}
		yield(s[start:])
	}
}
