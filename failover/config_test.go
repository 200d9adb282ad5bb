package failover_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	def := failover.DefaultConfig()
	with := func(f func(*failover.Config)) failover.Config { c := failover.DefaultConfig(); f(&c); return c }
	tests := []struct {
		name    string
		env     map[string]string
		want    failover.Config
		wantErr []string // substrings, every one must appear
	}{
		{name: "nothing set", env: nil, want: def},
		{name: "empty values keep defaults", env: map[string]string{"WEBHOOK_SUCCESS_THRESHOLD": "", "SMART_FAILOVER_ENABLED": "  "}, want: def},
		{name: "proposal names", env: map[string]string{
			"SMART_FAILOVER_ENABLED": "false", "WEBHOOK_SUCCESS_THRESHOLD": "3", "WEBHOOK_FAILURE_THRESHOLD": "2",
			"WEBHOOK_HEARTBEAT_TIMEOUT": "600", "WEBHOOK_HEARTBEAT_MIN_PLAYERS": "6",
		}, want: with(func(c *failover.Config) {
			c.Enabled, c.SuccessThreshold, c.FailureThreshold = false, 3, 2
			c.HeartbeatTimeout, c.HeartbeatMinPlayers = 10*time.Minute, 6
		})},
		{name: "go durations and extras", env: map[string]string{
			"WEBHOOK_HEARTBEAT_TIMEOUT": "20m", "PROLONGED_POLLING_ALERT": "0", "POLL_LADDER": "2:300,10:15m",
			"WEBHOOK_STATS_SUCCESS_THRESHOLD": "4", "WEBHOOK_ENDSTATS_FAILURE_THRESHOLD": "3",
		}, want: with(func(c *failover.Config) {
			c.HeartbeatTimeout, c.ProlongedPolling = 20*time.Minute, 0
			c.Ladder = []failover.LadderStep{{After: 2, Interval: 5 * time.Minute}, {After: 10, Interval: 15 * time.Minute}}
			c.Stats.SuccessThreshold, c.Endstats.FailureThreshold = 4, 3
		})},
		{name: "booleans", env: map[string]string{"SMART_FAILOVER_ENABLED": "No"}, want: with(func(c *failover.Config) { c.Enabled = false })},
		{name: "proposal heartbeat", env: map[string]string{"WEBHOOK_HEARTBEAT_QUIET_OK": "false"}, want: with(func(c *failover.Config) { c.HeartbeatQuietOK = false })},
		{name: "ladder off", env: map[string]string{"POLL_LADDER": "off"}, want: def},
		{name: "all bad at once", env: map[string]string{
			"SMART_FAILOVER_ENABLED": "sometimes", "WEBHOOK_SUCCESS_THRESHOLD": "2.5", "WEBHOOK_FAILURE_THRESHOLD": "0",
			"WEBHOOK_HEARTBEAT_TIMEOUT": "-1m", "WEBHOOK_HEARTBEAT_MIN_PLAYERS": "four", "POLL_LADDER": "2-5m",
			"WEBHOOK_HEARTBEAT_QUIET_OK": "often",
		}, wantErr: []string{
			`SMART_FAILOVER_ENABLED="sometimes"`, `WEBHOOK_SUCCESS_THRESHOLD="2.5"`, `WEBHOOK_FAILURE_THRESHOLD="0"`,
			`WEBHOOK_HEARTBEAT_TIMEOUT="-1m"`, `WEBHOOK_HEARTBEAT_MIN_PLAYERS="four"`, `POLL_LADDER="2-5m"`,
			`WEBHOOK_HEARTBEAT_QUIET_OK="often"`,
		}},
		{name: "ladder interval zero", env: map[string]string{"POLL_LADDER": "2:0"}, wantErr: []string{`POLL_LADDER="2:0"`, "interval"}},
		{name: "huge seconds", env: map[string]string{"WEBHOOK_HEARTBEAT_TIMEOUT": "99999999999999999"}, wantErr: []string{"WEBHOOK_HEARTBEAT_TIMEOUT", "too large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := failover.ConfigFromEnv(envMap(tt.env))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*failover.Config)
		wants []string
	}{
		{name: "default", edit: func(*failover.Config) {}},
		{name: "heartbeat off", edit: func(c *failover.Config) { c.HeartbeatTimeout = 0 }},
		{name: "every problem", edit: func(c *failover.Config) {
			c.SuccessThreshold, c.FailureThreshold = 0, -1
			c.Stats.SuccessThreshold, c.Endstats.FailureThreshold = -1, -2
			c.HeartbeatTimeout, c.HeartbeatMinPlayers, c.ProlongedPolling = -time.Second, -1, -time.Hour
			c.Ladder = []failover.LadderStep{{After: 0, Interval: time.Minute}, {After: 5, Interval: 0}, {After: 5, Interval: time.Minute}}
		}, wants: []string{
			"success threshold 0", "failure threshold -1", "stats success threshold -1", "endstats failure threshold -2",
			"heartbeat timeout -1s", "min players -1", "prolonged polling alert -1h0m0s",
			"ladder step 1: after 0", "ladder step 2: interval 0s", "ladder step 3: after 5 successes: must be more than the previous step's 5",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := failover.DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.wants) {
				t.Errorf("%d problems reported, want %d:\n%v", n, len(tt.wants), err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, err := failover.NewMachine(c, failover.NewManualClock(time.Time{})); err == nil {
				t.Error("NewMachine accepted an invalid config")
			}
		})
	}
}

func TestScheduleConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		check   func(failover.ScheduleConfig) bool
		wantErr []string
	}{
		{name: "defaults", check: func(c failover.ScheduleConfig) bool { return reflect.DeepEqual(c, failover.DefaultScheduleConfig()) }},
		{name: "all set", env: map[string]string{
			"POLL_TIMEZONE": "America/New_York", "POLL_DEAD_HOURS": "23:30-07:15", "POLL_ACTIVE_PLAYERS": "4",
			"POLL_ACTIVE_INTERVAL": "30", "POLL_GRACE": "15m", "POLL_GRACE_INTERVAL": "45s", "POLL_IDLE_INTERVAL": "900",
			"PROBE_INTERVAL": "0", "ANTI_ENTROPY_INTERVAL": "1h",
		}, check: func(c failover.ScheduleConfig) bool {
			return c == failover.ScheduleConfig{Zone: "America/New_York", DeadFrom: 23*time.Hour + 30*time.Minute,
				DeadUntil: 7*time.Hour + 15*time.Minute, ActivePlayers: 4, ActiveInterval: 30 * time.Second,
				Grace: 15 * time.Minute, GraceInterval: 45 * time.Second, IdleInterval: 15 * time.Minute,
				ProbeInterval: 0, AntiEntropyInterval: time.Hour}
		}},
		{name: "dead hours off", env: map[string]string{"POLL_DEAD_HOURS": "OFF"}, check: func(c failover.ScheduleConfig) bool { return c.DeadFrom == c.DeadUntil }},
		{name: "bad", env: map[string]string{
			"POLL_TIMEZONE": "Nowhere/Land", "POLL_DEAD_HOURS": "24:00-11:00", "POLL_ACTIVE_PLAYERS": "-1",
			"POLL_ACTIVE_INTERVAL": "0", "PROBE_INTERVAL": "-60", "ANTI_ENTROPY_INTERVAL": "soon",
		}, wantErr: []string{`POLL_TIMEZONE="Nowhere/Land"`, `POLL_DEAD_HOURS="24:00-11:00"`, `POLL_ACTIVE_PLAYERS="-1"`,
			`POLL_ACTIVE_INTERVAL="0"`, `PROBE_INTERVAL="-60"`, `ANTI_ENTROPY_INTERVAL="soon"`}},
		{name: "dead hours minutes", env: map[string]string{"POLL_DEAD_HOURS": "02:0-11:00"}, wantErr: []string{`POLL_DEAD_HOURS="02:0-11:00"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := failover.ScheduleConfigFromEnv(envMap(tt.env))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
	bad := failover.ScheduleConfig{Zone: "", DeadFrom: -time.Hour, DeadUntil: 25 * time.Hour, ActivePlayers: -1, Grace: -1}
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid schedule config accepted")
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 8 {
		t.Errorf("%d problems, want 8:\n%v", n, err)
	}
	if _, err := failover.NewSchedule(bad); err == nil {
		t.Error("NewSchedule accepted an invalid config")
	}
}

func TestParseLadder(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2", "x:5m", "2:5x", "2:5m,", "2:-5m"} {
		if _, err := failover.ParseLadder(s); err == nil {
			t.Errorf("ParseLadder(%q): no error", s)
		}
	}
	got, err := failover.ParseLadder(" 2 : 5m , 10:900 ")
	want := []failover.LadderStep{{2, 5 * time.Minute}, {10, 15 * time.Minute}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	clk := failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	m, err := failover.NewMachine(failover.DefaultConfig(), clk)
	if err != nil {
		t.Fatal(err)
	}
	m.Record(0, failover.KindStats, failover.Success, "")
	m.Record(0, failover.KindStats, failover.Success, "")
	clk.Advance(10 * time.Minute)
	m.Record(0, failover.KindEndstats, failover.Failure, "corrupt")
	m.Record(0, failover.KindEndstats, failover.Deferred, "")
	m.Record(1, failover.KindStats, failover.Success, "") // stale
	clk.Advance(5 * time.Minute)
	before := m.Status()
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}

	m2, err := failover.NewMachine(failover.DefaultConfig(), clk)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	after := m2.Status()
	if after.Mode != failover.PollingOn || after.Generation <= before.Generation {
		t.Errorf("restored mode %s generation %d, want on and > %d", after.Mode, after.Generation, before.Generation)
	}
	// Everything but the mode's start and the generation survives.
	before.ModeSince, after.ModeSince = time.Time{}, time.Time{}
	before.Generation, after.Generation = 0, 0
	if !reflect.DeepEqual(before, after) {
		t.Errorf("status changed across restore:\nbefore %+v\nafter  %+v", before, after)
	}
	// The failover still in progress finishes its time to recover after the restart.
	clk.Advance(5 * time.Minute)
	m2.Record(0, failover.KindStats, failover.Success, "")
	m2.Record(0, failover.KindStats, failover.Success, "")
	if s := m2.Status(); s.Recoveries != 1 || s.LastTimeToRecover != 10*time.Minute {
		t.Errorf("recoveries %d ttr %v, want 1 and 10m", s.Recoveries, s.LastTimeToRecover)
	}
	// A snapshot taken while OFF still restarts ON.
	snap, _ = m2.Snapshot()
	m3, _ := failover.NewMachine(failover.DefaultConfig(), clk)
	if err := m3.Restore(snap); err != nil || m3.Mode() != failover.PollingOn {
		t.Errorf("restore of an OFF snapshot: mode %s, err %v", m3.Mode(), err)
	}

	for _, bad := range []string{``, `{`, `[]`, `{"version":2}`, `{"version":1,"mode":"sideways"}`, `{"version":1,"failovers":-1}`} {
		m4, _ := failover.NewMachine(failover.DefaultConfig(), clk)
		m4.Record(0, failover.KindStats, failover.Success, "")
		if err := m4.Restore([]byte(bad)); !errors.Is(err, failover.ErrBadSnapshot) {
			t.Errorf("Restore(%q) = %v, want ErrBadSnapshot", bad, err)
		}
		if s := m4.Status(); s.Successes != 1 || s.Stats.ConsecutiveSuccesses != 1 {
			t.Errorf("Restore(%q) changed the machine: %+v", bad, s)
		}
	}
}

func TestNewMachineNilClock(t *testing.T) {
	t.Parallel()
	if _, err := failover.NewMachine(failover.DefaultConfig(), nil); err == nil {
		t.Error("nil clock accepted")
	}
}

func FuzzRestore(f *testing.F) {
	clk := failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	m, _ := failover.NewMachine(failover.DefaultConfig(), clk)
	m.Record(0, failover.KindStats, failover.Failure, "x")
	snap, _ := m.Snapshot()
	f.Add(snap)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _ := failover.NewMachine(failover.DefaultConfig(), clk)
		if err := m.Restore(b); err != nil {
			return
		}
		if m.Mode() != failover.PollingOn {
			t.Fatalf("restored mode %s", m.Mode())
		}
		m.Record(m.Generation(), failover.KindStats, failover.Success, "")
		m.Tick(10)
		_ = m.Status()
	})
}
