package parse

import (
	"fmt"
	"strconv"
	"strings"
)

// maxHosts bounds a hostlist's expansion (Slurm's own limit is 64k nodes).
const maxHosts = 1 << 16

// Hostlist expands a Slurm hostlist expression: "w[1-3,5],gpu-[01-10]" is
// w1 w2 w3 w5 gpu-01 … gpu-10. A range keeps the zero padding of its low
// end; an item may hold several bracket groups ("r[1-2]n[1-2]"). "(null)",
// "N/A" and "" are empty.
func Hostlist(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "(null)" || s == "N/A" || s == "" {
		return nil, nil
	}
	var hosts []string
	for item := range splitTop(s) {
		if item == "" {
			return nil, fmt.Errorf("hostlist %q: empty item", s)
		}
		var err error
		if hosts, err = expandHost(hosts, "", item); err != nil {
			return nil, fmt.Errorf("hostlist %q: %w", s, err)
		}
	}
	return hosts, nil
}

// InHostlist says whether host is one of the hosts of hostlist s.
func InHostlist(s, host string) (bool, error) {
	hosts, err := Hostlist(s)
	for _, h := range hosts {
		if h == host {
			return true, nil
		}
	}
	return false, err
}

// expandHost appends to hosts every name that prefix+item stands for.
func expandHost(hosts []string, prefix, item string) ([]string, error) {
	open := strings.IndexByte(item, '[')
	if open < 0 {
		if strings.ContainsAny(item, "]") {
			return nil, fmt.Errorf("unmatched ']'")
		}
		if len(hosts) >= maxHosts {
			return nil, fmt.Errorf("more than %d hosts", maxHosts)
		}
		return append(hosts, prefix+item), nil
	}
	end := strings.IndexByte(item[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("unclosed '['")
	}
	end += open
	head, ranges, rest := prefix+item[:open], item[open+1:end], item[end+1:]
	if strings.ContainsAny(head, "]") {
		return nil, fmt.Errorf("unmatched ']'")
	}
	for r := range strings.SplitSeq(ranges, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("range %q is not a number", r)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("range %q is not a range", r)
			}
		}
		if b-a >= maxHosts {
			return nil, fmt.Errorf("more than %d hosts", maxHosts)
		}
		for i := a; i <= b; i++ {
			num := strconv.Itoa(i)
			if pad := len(lo) - len(num); pad > 0 {
				num = strings.Repeat("0", pad) + num
			}
			if hosts, err = expandHost(hosts, head+num, rest); err != nil {
				return nil, err
			}
		}
	}
	return hosts, nil
}
