package ctcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretWords mark names that hold secret values.
var secretWords = []string{"secret", "nonce", "state", "verifier", "signature", "mac", "handle", "sig", "token", "challenge"}

// harmless are comparisons that reveal nothing: against "", nil, a length,
// a literal of a fixed protocol value, or a type/kind name.
func harmless(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return x.Name == "nil" || x.Name == "true" || x.Name == "false" || isConstName(x.Name)
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			return true
		}
	case *ast.SelectorExpr:
		return isConstName(x.Sel.Name)
	}
	return false
}

// isConstName reports exported-constant style names (ErrX, KeySize, MaxX).
func isConstName(n string) bool {
	return strings.HasPrefix(n, "Err") || strings.HasPrefix(n, "Max") || strings.HasSuffix(n, "Size") ||
		strings.HasSuffix(n, "Len") || strings.HasPrefix(n, "Default")
}

func secretName(e ast.Expr) (string, bool) {
	var name string
	switch x := e.(type) {
	case *ast.Ident:
		name = x.Name
	case *ast.SelectorExpr:
		name = x.Sel.Name
	case *ast.IndexExpr:
		return secretName(x.X)
	case *ast.CallExpr:
		// string(b), x.String() … look at the argument or receiver.
		if len(x.Args) == 1 {
			return secretName(x.Args[0])
		}
		return "", false
	default:
		return "", false
	}
	l := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(l, w) {
			return name, true
		}
	}
	return "", false
}

// TestNoVariableTimeSecretCompare parses the library's non-test Go files
// (the fake wiki and commands excepted: they are not the library's
// defences) and fails on "a == b" or "a != b" where an operand's name says
// it holds a secret and neither side is a harmless constant.
func TestNoVariableTimeSecretCompare(t *testing.T) {
	root := filepath.Join("..", "..")
	skipDirs := map[string]bool{"mwoauthtest": true, "cmd": true, "integration": true, ".git": true, "testdata": true}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDirs[d.Name()] && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		files++
		for _, msg := range findCompares(fset, f) {
			t.Error(msg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("checked only %d files; the walk is broken", files)
	}
}

// findCompares returns a message for each suspicious comparison in f.
func findCompares(fset *token.FileSet, f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		be, ok := n.(*ast.BinaryExpr)
		if !ok || (be.Op != token.EQL && be.Op != token.NEQ) {
			return true
		}
		if harmless(be.X) || harmless(be.Y) {
			return true
		}
		nx, sx := secretName(be.X)
		ny, sy := secretName(be.Y)
		if sx || sy {
			out = append(out, fset.Position(be.Pos()).String()+": "+nx+ny+" ("+be.Op.String()+")"+
				" compares secrets in variable time; use subtle.ConstantTimeCompare or hmac.Equal")
		}
		return true
	})
	return out
}

// TestCheckFindsCompares proves the check can fail.
func TestCheckFindsCompares(t *testing.T) {
	src := `package p
func f(state, got string, p struct{ Handle string }, sig, mac []byte) bool {
	if state == got || p.Handle != got { return true }
	if string(sig) == string(mac) { return true }
	return state == "" || len(sig) == 0 || got == got
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := findCompares(fset, f); len(got) != 3 {
		t.Fatalf("findCompares found %d comparisons; want 3: %q", len(got), got)
	}
}
