package tiercache_test

import (
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestReadmeSnippet keeps the first Go block of README.md, a complete
// program, equal to the package Example (readme_example_test.go), which
// compiles and runs with the tests: main's body must be Example's body
// (without its Output comment), the imports the same, and the block
// gofmt-formatted.
func TestReadmeSnippet(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippet := firstGoBlock(t, string(readme))
	if formatted, err := format.Source([]byte(snippet)); err != nil || string(formatted) != snippet {
		t.Errorf("the README snippet is not gofmt-formatted (%v)", err)
	}
	example, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	mainBody, mainImports := funcBody(t, "README.md", snippet, "main")
	exBody, exImports := funcBody(t, "readme_example_test.go", string(example), "Example")
	if i := strings.Index(exBody, "\t// Output:"); i >= 0 {
		exBody = exBody[:i]
	}
	if mainBody != exBody {
		t.Errorf("README main body and Example body differ:\n--- README main\n%s\n--- Example\n%s", mainBody, exBody)
	}
	if !slices.Equal(mainImports, exImports) {
		t.Errorf("README imports %q, Example imports %q", mainImports, exImports)
	}
}

// firstGoBlock returns the contents of the first ```go block of markdown.
func firstGoBlock(t *testing.T, markdown string) string {
	t.Helper()
	_, rest, ok := strings.Cut(markdown, "```go\n")
	if !ok {
		t.Fatal("README.md has no ```go block")
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("README.md: unterminated ```go block")
	}
	return block
}

// funcBody parses src and returns the source text inside the braces of the
// function named name, and the file's import paths.
func funcBody(t *testing.T, file, src, name string) (string, []string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var imports []string
	for _, imp := range f.Imports {
		imports = append(imports, imp.Path.Value)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == name {
			from, to := fset.Position(fn.Body.Lbrace).Offset+1, fset.Position(fn.Body.Rbrace).Offset
			return src[from:to], imports
		}
	}
	t.Fatalf("%s: no func %s", file, name)
	return "", nil
}
