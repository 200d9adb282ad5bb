package sftp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestKnownAlgorithms(t *testing.T) {
	t.Parallel()
	ed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(testHostKey))
	if err != nil {
		t.Fatal(err)
	}
	edLine := func(host string) string { return host + " " + testHostKey }
	tests := []struct {
		name  string
		lines []string
		addr  string
		want  string
	}{
		{"plain host, port 22", []string{edLine("game.example.org")}, "game.example.org:22", "ssh-ed25519"},
		{"bracketed port", []string{edLine("[10.0.0.5]:2222")}, "10.0.0.5:2222", "ssh-ed25519"},
		{"other port does not match", []string{edLine("[10.0.0.5]:2222")}, "10.0.0.5:22", ""},
		{"hashed", []string{knownhosts.HashHostname("[10.0.0.5]:2222") + " " + testHostKey}, "10.0.0.5:2222", "ssh-ed25519"},
		{"wildcard left to knownhosts", []string{edLine("*.example.org")}, "game.example.org:22", ""},
		{"comma list and comments", []string{"# comment", "", edLine("a,game.example.org")}, "game.example.org:22", "ssh-ed25519"},
		{"unparsable line skipped", []string{"h ssh-rsa AAAAnotakey", edLine("h")}, "h:22", "ssh-ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(path, []byte(strings.Join(tt.lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := knownAlgorithms(path, tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tt.want {
				t.Fatalf("algorithms %v, want %q", got, tt.want)
			}
		})
	}
	if got := algorithmsFor(ssh.KeyAlgoRSA); len(got) != 3 || got[0] != ssh.KeyAlgoRSASHA512 {
		t.Fatalf("rsa algorithms %v", got)
	}
	if got := algorithmsFor(ed.Type()); len(got) != 1 {
		t.Fatalf("ed25519 algorithms %v", got)
	}
}
