// Package sftp is the pull path: it reads a game server's stats folder over
// one persistent SSH connection with an SFTP session.
//
// A Client connects on first use and keeps the connection: a handshake
// costs far more than the requests that follow, and a bot that polls every
// minute through a game night would otherwise pay one per poll. The
// connection is checked with keepalive@openssh.com every 30 s (a reply,
// even a refusal, must come within 15 s), and any connection error drops it;
// the next call reconnects, after exponential backoff with jitter when
// connects keep failing. A request that meets a dead connection is run once
// more on a fresh one, which is safe because the Client only reads.
//
// Probe is the cheap change detector the failover design relies on while
// polling is off: one stat of the stats folder on the open connection, no
// listing. List returns the folder's valid stats files within the lookback
// window; Fetch returns one file's bytes, refusing files over the size limit
// unread and files still being written.
//
// Host-key verification is mandatory. A server whose key differs from the
// configured one is refused with ErrHostKeyMismatch (errors.Is), which is
// also what a reinstalled server looks like: fix the configuration, the
// Client will not guess.
//
// # Configuration
//
// ConfigFromEnv reads these variables (README table):
//
//	Variable                      Default   Meaning
//	SSH_HOST                      required  SSH server host name or IP
//	SSH_PORT                      22        SSH server port
//	SSH_USER                      required  login name
//	SSH_KEY_PATH                  -         private key file (OpenSSH or PEM format)
//	SSH_KEY_PASSPHRASE            -         passphrase of an encrypted key; never logged
//	SSH_AUTH_SOCK                 -         ssh-agent socket, used when SSH_KEY_PATH is unset
//	SSH_KNOWN_HOSTS               -         known_hosts file holding the server's key
//	SSH_HOST_KEY                  -         the server's public key line ("ssh-ed25519 AAAA...")
//	SSH_INSECURE_IGNORE_HOST_KEY  false     true skips host-key checks (warned at every connect)
//	REMOTE_STATS_DIR              required  the stats folder on the server
//
// One of SSH_KEY_PATH and SSH_AUTH_SOCK, and exactly one of SSH_KNOWN_HOSTS,
// SSH_HOST_KEY and SSH_INSECURE_IGNORE_HOST_KEY=true, must be set. Timeouts,
// backoff bounds, lookback (7 days) and the size limit (4 MiB) are Config
// fields with the defaults of DefaultConfig.
//
// The subpackage sftptest runs an in-process SSH+SFTP server and the
// system's OpenSSH sshd on loopback, for tests and the bot's demo mode.
package sftp
