package samsatest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// allowed lists, for each package of ours, the packages of ours it may
// import (non-test files). It is the table in ARCHITECTURE.md; change both
// together.
var allowed = map[string][]string{
	"cmd/samsa":          {"*"},
	"cmd/kfakepeer":      {},
	"internal/cli":       {},
	"internal/console":   {},
	"internal/server":    {"internal/broker"},
	"internal/broker":    {"internal/group", "internal/txn", "internal/meta", "internal/storage"},
	"internal/group":     {"internal/meta", "internal/storage"},
	"internal/txn":       {"internal/meta"},
	"internal/meta":      {},
	"internal/storage":   {},
	"internal/samsatest": {"*"},
	"internal/e2e":       {},

	"examples/postoffice":        {},
	"examples/badguys/api":       {},
	"examples/badguys/processor": {},
}

// TestImportsPointDownAndPackagesHaveDocs checks the package map: every
// package is in the table, imports only what its row allows, and has a
// package doc comment.
func TestImportsPointDownAndPackagesHaveDocs(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Module     *struct{ Path string }
			Doc        string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		mod := p.Module.Path + "/"
		rel := strings.TrimPrefix(p.ImportPath, mod)
		rules, ok := allowed[rel]
		if !ok {
			t.Errorf("package %s is not in the package map (ARCHITECTURE.md and this test)", rel)
			continue
		}
		if p.Doc == "" {
			t.Errorf("package %s has no package doc comment", rel)
		}
		if len(rules) == 1 && rules[0] == "*" {
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			ok := false
			for _, r := range rules {
				ok = ok || r == dep
			}
			if !ok {
				t.Errorf("%s imports %s, which its row does not allow", rel, dep)
			}
		}
	}
}
