package secret_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretName is a name that holds a credential.
var secretName = regexp.MustCompile(`(?i)token|secret|password|passwd|csrf|api_?key`)

// TestSecurityNoSecretIsComparedWithEquals fails when a program's source
// (every non-test .go file of the module) compares a variable or field
// named like a credential with == or !=, which takes longer the more of a
// guess is right: tokens, passwords and CSRF tokens are compared with
// crypto/subtle (or bcrypt). Comparing with "" (is one set?) or nil is
// fine, and so is comparing a constant (auth.TokenUser is a user name).
func TestSecurityNoSecretIsComparedWithEquals(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		files[path] = f
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d files under %s", len(files), root)
	}
	consts := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						consts[n.Name] = true
					}
				}
			}
		}
	}
	for path, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
				return true
			}
			for _, pair := range [][2]ast.Expr{{b.X, b.Y}, {b.Y, b.X}} {
				if name := credential(pair[0]); name != "" && !consts[name] && !harmless(pair[1]) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s:%d: %s compared with %s: use crypto/subtle (over hashes, so lengths do not show)",
						rel, fset.Position(b.Pos()).Line, name, b.Op)
					break
				}
			}
			return true
		})
	}
}

// credential is the name of what e reads when it is named like a secret
// (through conversions and concatenations: "Bearer "+token), else "".
func credential(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return credential(e.X)
	case *ast.Ident:
		if secretName.MatchString(e.Name) {
			return e.Name
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "token" { // go/token's constants
			return ""
		}
		if secretName.MatchString(e.Sel.Name) {
			return e.Sel.Name
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			if n := credential(e.X); n != "" {
				return n
			}
			return credential(e.Y)
		}
	case *ast.CallExpr: // string(tok), []byte(tok)
		if len(e.Args) == 1 && isConversion(e.Fun) {
			return credential(e.Args[0])
		}
	}
	return ""
}

func isConversion(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name == "string"
	case *ast.ArrayType:
		id, ok := f.Elt.(*ast.Ident)
		return ok && f.Len == nil && id.Name == "byte"
	}
	return false
}

// harmless is what a secret may be compared with: "" or nil.
func harmless(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return harmless(e.X)
	case *ast.BasicLit:
		return e.Kind == token.STRING && (e.Value == `""` || e.Value == "``")
	case *ast.Ident:
		return e.Name == "nil"
	}
	return false
}

// moduleRoot is the directory of go.mod above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
