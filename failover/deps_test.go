package failover_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps failover pure: it imports nothing outside the
// standard library (tests included), so it cannot pull in I/O, logging or a
// module that does.
func TestStandardLibraryOnly(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-test", "-json=ImportPath,Standard,ForTest", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var n int
	for dec.More() {
		var p struct {
			ImportPath string
			Standard   bool
			ForTest    string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		n++
		path := strings.Fields(p.ImportPath)[0] // "pkg [pkg.test]"
		if p.Standard || path == "github.com/roundfeed/roundfeed/failover" ||
			path == "github.com/roundfeed/roundfeed/failover_test" || path == "github.com/roundfeed/roundfeed/failover.test" {
			continue
		}
		t.Errorf("failover depends on %s, outside the standard library", p.ImportPath)
	}
	if n < 10 {
		t.Fatalf("go list returned %d packages; the check saw nothing", n)
	}
}
