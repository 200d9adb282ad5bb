package ingest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/ingest"
	"github.com/roundfeed/roundfeed/parser"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(ingest.Config) bool
		wantErr []string
	}{
		{"defaults", nil, func(c ingest.Config) bool { return c == ingest.DefaultConfig() }, nil},
		{"all set", map[string]string{
			"ARCHIVE_DIR": "/var/lib/roundfeed/archive", "ARCHIVE_FSYNC": "true", "LOOKBACK": "3d", "MAX_ATTEMPTS": "7", "LEASE": "90s",
			"WORKERS": "2", "MAX_FILE_SIZE": "8MiB", "R1_WAIT": "5m", "ENDSTATS_WAIT": "1h", "PARSER_MODE": "compat",
			"NOT_FOUND_GRACE": "3m",
		}, func(c ingest.Config) bool {
			return c.ArchiveDir == "/var/lib/roundfeed/archive" && c.ArchiveFsync && c.Lookback == 72*time.Hour && c.MaxAttempts == 7 &&
				c.Lease == 90*time.Second && c.Workers == 2 && c.MaxFileSize == 8<<20 && c.R1Wait == 5*time.Minute &&
				c.EndstatsWait == time.Hour && c.Parser.Mode == parser.Compat && c.NotFoundGrace == 3*time.Minute
		}, nil},
		{"bad values all reported", map[string]string{
			"ARCHIVE_FSYNC": "maybe", "LOOKBACK": "a week", "MAX_ATTEMPTS": "five", "MAX_FILE_SIZE": "4 MB", "PARSER_MODE": "strict",
			"NOT_FOUND_GRACE": "soon",
		}, nil, []string{"ARCHIVE_FSYNC", "LOOKBACK", "MAX_ATTEMPTS", "MAX_FILE_SIZE", "PARSER_MODE", "NOT_FOUND_GRACE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ingest.DefaultConfig().FromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Errorf("FromEnv = %+v, %v", c, err)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	c := ingest.DefaultConfig()
	c.ArchiveDir, c.Workers, c.MaxFileSize, c.Lease, c.MaxAttempts = "", 0, 0, 0, 0
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"ARCHIVE_DIR", "WORKERS", "MAX_FILE_SIZE", "LEASE", "MAX_ATTEMPTS"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
	if err := ingest.DefaultSenderConfig().Validate(); err != nil {
		t.Errorf("default sender config: %v", err)
	}
}

func TestParseSizeAndDuration(t *testing.T) {
	sizes := []struct {
		in   string
		want int64
		ok   bool
	}{{"4194304", 4 << 20, true}, {"4MiB", 4 << 20, true}, {"512 KiB", 512 << 10, true}, {"-1", 0, false}, {"4MB", 0, false}}
	for _, s := range sizes {
		got, err := ingest.ParseSize(s.in)
		if (err == nil) != s.ok || got != s.want {
			t.Errorf("ParseSize(%q) = %d, %v", s.in, got, err)
		}
	}
	durs := []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"7d", 7 * 24 * time.Hour, true}, {"0.5d", 12 * time.Hour, true}, {"2m", 2 * time.Minute, true}, {"d", 0, false}, {"soon", 0, false}}
	for _, d := range durs {
		got, err := ingest.ParseDuration(d.in)
		if (err == nil) != d.ok || got != d.want {
			t.Errorf("ParseDuration(%q) = %v, %v", d.in, got, err)
		}
	}
}
