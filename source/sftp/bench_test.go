package sftp

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/roundfeed/roundfeed/parser"
)

const (
	benchFiles    = 1000
	benchFileSize = 10 << 10
)

// BenchmarkFetch reads 1,000 files of 10 KB per iteration over loopback SFTP
// through Client.Fetch ("client") and through a plain pkg/sftp client doing
// open+read+close ("raw", the ceiling), against both servers.
func BenchmarkFetch(b *testing.B) {
	for _, kind := range serverKinds {
		b.Run(kind, func(b *testing.B) {
			s := startServer(b, kind)
			names := make([]parser.FileName, benchFiles)
			data := make([]byte, benchFileSize)
			old := time.Now().Add(-time.Hour)
			for i := range names {
				// one file a second from 20:00:00: HHMMSS stays valid
				raw := fmt.Sprintf("2026-01-15-20%02d%02d-te_escape2-round-1.txt", i/60, i%60)
				p := filepath.Join(s.statsDir, raw)
				if err := os.WriteFile(p, data, 0o644); err != nil {
					b.Fatal(err)
				}
				os.Chtimes(p, old, old)
				fn, err := parser.ValidateName(raw)
				if err != nil {
					b.Fatal(err)
				}
				names[i] = fn
			}
			b.Run("client", func(b *testing.B) {
				cfg := s.config(nil)
				cfg.Lookback = 0
				c, err := NewClient(cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				ctx := context.Background()
				b.SetBytes(benchFiles * benchFileSize)
				b.ResetTimer()
				for b.Loop() {
					for _, n := range names {
						if _, err := c.Fetch(ctx, n); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N*benchFiles)/b.Elapsed().Seconds(), "files/s")
				if c.Counters().Handshakes != 1 {
					b.Fatalf("%d handshakes", c.Counters().Handshakes)
				}
			})
			// raw is the ceiling: open, one read of the known size, close.
			// readall is what a plain io.ReadAll does (it grows its buffer
			// from 512 bytes, so pkg/sftp sends several small reads).
			for _, mode := range []string{"raw", "readall"} {
				b.Run(mode, func(b *testing.B) {
					c := rawClient(b, s)
					buf := make([]byte, benchFileSize)
					b.SetBytes(benchFiles * benchFileSize)
					b.ResetTimer()
					for b.Loop() {
						for _, n := range names {
							f, err := c.Open(path.Join(s.remoteDir, n.Raw))
							if err != nil {
								b.Fatal(err)
							}
							if mode == "raw" {
								_, err = io.ReadFull(f, buf)
							} else {
								_, err = io.ReadAll(f)
							}
							if err != nil {
								b.Fatal(err)
							}
							f.Close()
						}
					}
					b.ReportMetric(float64(b.N*benchFiles)/b.Elapsed().Seconds(), "files/s")
				})
			}
			// ratio interleaves the two readers file set by file set, so
			// load from elsewhere on the machine hits both alike.
			b.Run("ratio", func(b *testing.B) {
				cfg := s.config(nil)
				cfg.Lookback = 0
				c, err := NewClient(cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				raw := rawClient(b, s)
				buf := make([]byte, benchFileSize)
				ctx := context.Background()
				var tClient, tRaw time.Duration
				var dClient, dRaw []time.Duration // per file, for medians that load spikes do not move
				for b.Loop() {
					for _, n := range names {
						t0 := time.Now()
						if _, err := c.Fetch(ctx, n); err != nil {
							b.Fatal(err)
						}
						dClient = append(dClient, time.Since(t0))
					}
					for _, n := range names {
						t0 := time.Now()
						f, err := raw.Open(path.Join(s.remoteDir, n.Raw))
						if err != nil {
							b.Fatal(err)
						}
						if _, err := io.ReadFull(f, buf); err != nil {
							b.Fatal(err)
						}
						f.Close()
						dRaw = append(dRaw, time.Since(t0))
					}
				}
				for _, d := range dClient {
					tClient += d
				}
				for _, d := range dRaw {
					tRaw += d
				}
				files := float64(b.N * benchFiles)
				b.ReportMetric(files/tClient.Seconds(), "client-files/s")
				b.ReportMetric(files/tRaw.Seconds(), "raw-files/s")
				b.ReportMetric(float64(median(dClient).Microseconds()), "client-p50-µs")
				b.ReportMetric(float64(median(dRaw).Microseconds()), "raw-p50-µs")
				b.ReportMetric(tRaw.Seconds()/tClient.Seconds(), "client/raw")
			})
		})
	}
}

// rawClient is a plain pkg/sftp client on its own SSH connection.
func rawClient(b *testing.B, s *server) *sftp.Client {
	signer, err := loadKey(s.keyPath, "")
	if err != nil {
		b.Fatal(err)
	}
	hk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.hostKey))
	if err != nil {
		b.Fatal(err)
	}
	sc, err := ssh.Dial("tcp", fmt.Sprintf("%s:%d", s.host, s.port), &ssh.ClientConfig{
		User: s.user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.FixedHostKey(hk),
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := sftp.NewClient(sc)
	if err != nil {
		sc.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(); sc.Close() })
	return c
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
