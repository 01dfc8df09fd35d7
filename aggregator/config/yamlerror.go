package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

var durationType = reflect.TypeFor[model.Duration]()

// locate adds the line and field to a decoding error that yaml leaves
// without them: model.Duration's own unmarshaller reports only the bad
// value. It walks the document alongside the Config type to find the first
// duration that does not parse; other errors are returned as they are.
func locate(b []byte, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return err // already has its lines
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil {
		return err
	}
	if located := findBadDuration(&doc, reflect.TypeFor[Config](), ""); located != nil {
		return located
	}
	return err
}

func findBadDuration(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			return nil
		}
		if _, err := model.ParseDuration(n.Value); err != nil {
			return fmt.Errorf("line %d: %s: %w", n.Line, path, err)
		}
	case n.Kind == yaml.DocumentNode:
		for _, c := range n.Content {
			if err := findBadDuration(c, t, path); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			if err := findBadDuration(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			f, ok := fieldByTag(t, key)
			if !ok {
				continue
			}
			if err := findBadDuration(n.Content[i+1], f.Type, strings.TrimPrefix(path+"."+key, ".")); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
