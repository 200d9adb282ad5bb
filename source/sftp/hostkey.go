package sftp

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

var (
	// ErrHostKeyMismatch: the server offered a host key other than the one
	// configured. This is what a man-in-the-middle looks like, and also what
	// a reinstalled server looks like; either way the client does not
	// connect until the configuration is corrected.
	ErrHostKeyMismatch = errors.New("sftp: host key mismatch")
	// ErrUnknownHost: the known_hosts file has no key for the server.
	ErrUnknownHost = errors.New("sftp: host not in known_hosts")
)

// parseHostKey reads SSH_HOST_KEY: an authorized_keys line
// ("ssh-ed25519 AAAA... comment") or a known_hosts line ("host ssh-ed25519 AAAA...").
func parseHostKey(line string) (ssh.PublicKey, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err == nil {
		return key, nil
	}
	if _, _, key, _, _, err2 := ssh.ParseKnownHosts([]byte(line)); err2 == nil {
		return key, nil
	}
	return nil, fmt.Errorf("not a public key line: %w", err)
}

// algorithmsFor returns the host-key algorithms that can present a key of
// type keyType. Offering only these makes a server with several host keys
// present the one that is configured.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// hostKeyCheck builds the host-key callback and the algorithms to offer.
func hostKeyCheck(c Config) (ssh.HostKeyCallback, []string, error) {
	switch {
	case c.HostKey != "":
		want, err := parseHostKey(c.HostKey)
		if err != nil {
			return nil, nil, fmt.Errorf("sftp: %s: %w", EnvHostKey, err)
		}
		cb := func(host string, _ net.Addr, key ssh.PublicKey) error {
			if bytes.Equal(key.Marshal(), want.Marshal()) {
				return nil
			}
			return fmt.Errorf("%w for %s: server offered %s %s, configured %s %s",
				ErrHostKeyMismatch, host, key.Type(), ssh.FingerprintSHA256(key), want.Type(), ssh.FingerprintSHA256(want))
		}
		return cb, algorithmsFor(want.Type()), nil
	case c.KnownHostsPath != "":
		kh, err := knownhosts.New(c.KnownHostsPath)
		if err != nil {
			return nil, nil, fmt.Errorf("sftp: %s %s: %w", EnvKnownHosts, c.KnownHostsPath, err)
		}
		cb := func(host string, remote net.Addr, key ssh.PublicKey) error {
			err := kh(host, remote, key)
			var ke *knownhosts.KeyError
			if errors.As(err, &ke) {
				if len(ke.Want) == 0 {
					return fmt.Errorf("%w: no key for %s in %s (server offered %s %s)",
						ErrUnknownHost, host, c.KnownHostsPath, key.Type(), ssh.FingerprintSHA256(key))
				}
				return fmt.Errorf("%w for %s: server offered %s %s, %s has %s",
					ErrHostKeyMismatch, host, key.Type(), ssh.FingerprintSHA256(key), c.KnownHostsPath, ke.Want[0].String())
			}
			return err
		}
		algos, err := knownAlgorithms(c.KnownHostsPath, net.JoinHostPort(c.Host, fmt.Sprint(c.Port)))
		if err != nil {
			return nil, nil, fmt.Errorf("sftp: %s %s: %w", EnvKnownHosts, c.KnownHostsPath, err)
		}
		return cb, algos, nil
	case c.InsecureIgnoreHostKey:
		return ssh.InsecureIgnoreHostKey(), nil, nil //nolint:gosec // opted in, warned at every connect
	}
	return nil, nil, errors.New("sftp: no host key configuration")
}

// knownAlgorithms returns the host-key algorithms of the keys a known_hosts
// file lists for addr (plain or hashed host names), so the server presents
// a key the file can check. Nil (offer the defaults) when no line names the
// host plainly, for example when only wildcard patterns match.
func knownAlgorithms(path, addr string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	norm := knownhosts.Normalize(addr)
	seen := map[string]bool{}
	var algos []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(sc.Bytes())
		if err != nil || marker != "" || key == nil {
			continue // blank, comment, @cert-authority or @revoked
		}
		match := false
		for _, h := range hosts {
			match = match || hostMatches(h, norm)
		}
		if !match || seen[key.Type()] {
			continue
		}
		seen[key.Type()] = true
		algos = append(algos, algorithmsFor(key.Type())...)
	}
	return algos, sc.Err()
}

// hostMatches reports whether one known_hosts host entry names norm exactly
// (plain, or hashed "|1|salt|hash"). Patterns with wildcards or negation are
// left to knownhosts.
func hostMatches(entry, norm string) bool {
	if strings.HasPrefix(entry, "|1|") {
		parts := strings.Split(entry[3:], "|")
		if len(parts) != 2 {
			return false
		}
		salt, err1 := base64.StdEncoding.DecodeString(parts[0])
		hash, err2 := base64.StdEncoding.DecodeString(parts[1])
		if err1 != nil || err2 != nil {
			return false
		}
		m := hmac.New(sha1.New, salt)
		m.Write([]byte(norm))
		return hmac.Equal(m.Sum(nil), hash)
	}
	if strings.ContainsAny(entry, "*?!") {
		return false
	}
	return knownhosts.Normalize(entry) == norm
}
