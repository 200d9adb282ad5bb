package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SSH is the SFTP side of the configuration, until source/sftp provides its
// own ConfigFromEnv (then this type becomes an alias of it).
type SSH struct {
	Host, User, KeyPath, KnownHosts, RemoteDir string
	Port                                       int
	Passphrase                                 Secret
}

// SSH variable names.
const (
	EnvSSHHost       = "SSH_HOST"
	EnvSSHPort       = "SSH_PORT"
	EnvSSHUser       = "SSH_USER"
	EnvSSHKey        = "SSH_KEY_PATH"
	EnvSSHPassphrase = "SSH_KEY_PASSPHRASE"
	EnvSSHKnownHosts = "SSH_KNOWN_HOSTS"
	EnvRemoteDir     = "REMOTE_STATS_DIR"
)

// DefaultSSH returns port 22 and nothing else.
func DefaultSSH() SSH { return SSH{Port: 22} }

// SSHFromEnv reads the SSH variables.
func SSHFromEnv(lookup func(string) (string, bool)) (SSH, error) {
	s := DefaultSSH()
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	s.Host, s.User, s.KeyPath, s.KnownHosts, s.RemoteDir = get(EnvSSHHost), get(EnvSSHUser), get(EnvSSHKey), get(EnvSSHKnownHosts), get(EnvRemoteDir)
	if v, ok := lookup(EnvSSHPassphrase); ok {
		s.Passphrase = Secret(v)
	}
	if v := get(EnvSSHPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return s, fmt.Errorf("%s: %q is not a port", EnvSSHPort, v)
		}
		s.Port = p
	}
	return s, nil
}

// Validate reports every missing SSH setting.
func (s SSH) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{{EnvSSHHost, s.Host}, {EnvSSHUser, s.User}, {EnvSSHKey, s.KeyPath}, {EnvSSHKnownHosts, s.KnownHosts}, {EnvRemoteDir, s.RemoteDir}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s: required", f.name))
		}
	}
	return errors.Join(errs...)
}
