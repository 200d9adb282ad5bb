package sftptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Key is a generated ed25519 key pair.
type Key struct {
	Signer ssh.Signer
	// PEM is the private key in OpenSSH format, unencrypted.
	PEM []byte
}

// NewKey generates an ed25519 key pair.
func NewKey() (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("sftptest: generate key: %w", err)
	}
	return keyFrom(priv, "")
}

// NewEncryptedKey generates an ed25519 key pair whose PEM is encrypted with
// passphrase, for tests of SSH_KEY_PASSPHRASE.
func NewEncryptedKey(passphrase string) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("sftptest: generate key: %w", err)
	}
	return keyFrom(priv, passphrase)
}

func keyFrom(priv ed25519.PrivateKey, passphrase string) (Key, error) {
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return Key{}, fmt.Errorf("sftptest: signer: %w", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "roundfeed test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "roundfeed test key", []byte(passphrase))
	}
	if err != nil {
		return Key{}, fmt.Errorf("sftptest: marshal key: %w", err)
	}
	return Key{Signer: signer, PEM: pem.EncodeToMemory(block)}, nil
}

// AuthorizedLine returns the public key as one authorized_keys line
// ("ssh-ed25519 AAAA..."), the form SSH_HOST_KEY takes.
func (k Key) AuthorizedLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.Signer.PublicKey())))
}

// WritePrivate writes the private key to path with mode 0600.
func (k Key) WritePrivate(path string) error {
	if err := os.WriteFile(path, k.PEM, 0o600); err != nil {
		return fmt.Errorf("sftptest: write key: %w", err)
	}
	return nil
}

// writeKnownHosts writes one known_hosts line for addr to dir/known_hosts.
func writeKnownHosts(dir, line string) (string, error) {
	p := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("sftptest: write known_hosts: %w", err)
	}
	return p, nil
}
