package testutil

import (
	"os/exec"
	"strings"
	"testing"
)

// Deps returns the import paths the package in the test's working directory
// links (`go list -deps .`: itself and the standard library included, its
// tests not). It stops the test when go list fails or lists nothing.
func Deps(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list listed no packages; the check would see nothing")
	}
	return deps
}

// ForbidDeps reports an error, naming the package as name, for each of deps
// whose import path contains one of bad.
func ForbidDeps(t testing.TB, name string, deps []string, bad ...string) {
	t.Helper()
	for _, dep := range deps {
		for _, b := range bad {
			if strings.Contains(dep, b) {
				t.Errorf("%s depends on %s", name, dep)
			}
		}
	}
}
