package config

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzReadDotEnv: any bytes give a map or an error naming a line, never a
// panic, and an error never quotes the file's content.
func FuzzReadDotEnv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B=\"x y\"\n# c\n", "C='q'\nbad line\n", "=\n", "D= # e\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, err := ReadDotEnv(strings.NewReader(in), ".env")
		if err != nil && !strings.Contains(err.Error(), ".env") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzFromFile: any bytes give a configuration or errors naming the file,
// never a panic, and no error or printed form shows the token.
func FuzzFromFile(f *testing.F) {
	for _, s := range []string{
		"[[servers]]\nname = \"a\"\n[servers.ssh]\nport = 22\n",
		"[discord]\ntoken = \"fuzz-sekrit\"\n[[servers]]\nname = 1\n",
		"[defaults.failover]\nwebhook_success_threshold = [1]\n[[servers]]\n[servers.schedule]\npoll_dead_hours = \"x\"\n",
		"db_path = \n", "[[servers]\n", "servers = 3\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := FromFile("f.toml", []byte(in), func(string) (string, bool) { return "", false })
		verr := c.Validate(NeedAll)
		for _, e := range []error{err, verr} {
			if e == nil {
				continue
			}
			for _, line := range strings.Split(e.Error(), "\n") {
				if !strings.HasPrefix(line, "f.toml") {
					t.Fatalf("error line does not name the file: %q", line)
				}
			}
		}
		if c.Token != "" {
			shown := c.String() + c.GoString() + fmt.Sprint(verr)
			if strings.Contains(shown, c.Token.Reveal()) && len(c.Token.Reveal()) > 3 {
				t.Fatalf("token shown: %s", shown)
			}
		}
	})
}
