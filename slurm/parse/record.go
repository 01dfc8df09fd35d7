package parse

import (
	"errors"
	"strings"
)

// Field is one Key=Value of a scontrol record.
type Field struct{ Key, Value string }

// Record is one object as `scontrol -o show …` prints it: Key=Value fields
// on one line, in Slurm's order. A key may repeat (a job's per-node
// "Nodes= CPU_IDs= Mem= GRES=" groups).
type Record []Field

// Get returns the value of the first field named key, and whether there is
// one.
func (r Record) Get(key string) (string, bool) {
	for _, f := range r {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// ParseRecord splits a one-line scontrol record into fields. Values may
// contain spaces ("OS=Linux 6.1 #1 SMP", "Reason=disk full [root@…]"): a
// value runs until the next word that starts a key, that is a word that
// begins with a capital letter and has an '=' after a run of key
// characters (letters, digits, '_', ':', '/'). Values are trimmed of the
// spaces around them; an empty value ("AllocTRES=") stays empty.
func ParseRecord(line string) (Record, error) {
	var rec Record
	valStart := -1 // where the current field's value starts
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		end := strings.IndexByte(line[i:], ' ')
		if end < 0 {
			end = len(line)
		} else {
			end += i
		}
		if key, ok := keyOf(line[i:end]); ok {
			if valStart >= 0 {
				rec[len(rec)-1].Value = strings.TrimSpace(line[valStart:i])
			}
			rec = append(rec, Field{Key: key})
			valStart = i + len(key) + 1
		} else if valStart < 0 {
			return nil, errors.New("does not start with Key=Value")
		}
		i = end
	}
	if valStart >= 0 {
		rec[len(rec)-1].Value = strings.TrimSpace(line[valStart:])
	}
	return rec, nil
}

// keyOf returns the key of a word that starts a field ("CPU_IDs=0-1").
func keyOf(word string) (string, bool) {
	if word == "" || word[0] < 'A' || word[0] > 'Z' {
		return "", false
	}
	for i := 1; i < len(word); i++ {
		c := word[i]
		switch {
		case c == '=':
			return word[:i], true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == ':', c == '/':
		default:
			return "", false
		}
	}
	return "", false
}

// Records parses `scontrol -o show …` output: one record per line.
func Records(out []byte) ([]Record, error) {
	var recs []Record
	err := eachLine(out, func(line string) error {
		r, err := ParseRecord(line)
		if err == nil {
			recs = append(recs, r)
		}
		return err
	})
	return recs, err
}
