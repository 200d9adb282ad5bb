package failover_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// TestMachineRandomWalk drives machines with random inputs and checks what
// the table promises at every step: transitions chain (each starts where the
// last ended) and each bumps the generation by one; OFF -> ON always comes
// with an alert; a disabled machine never leaves ON; at most one
// prolonged-polling alert per ON episode; Status agrees with Mode.
func TestMachineRandomWalk(t *testing.T) {
	t.Parallel()
	seen := map[failover.AlertKind]int{}
	transitions := 0
	for seed := uint64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		cfg := failover.DefaultConfig()
		cfg.Enabled = seed%5 != 0
		if seed%4 == 0 {
			cfg.SuccessThreshold = 6 // long ON episodes: the prolonged-polling alert
		}
		if seed%3 == 0 {
			cfg.Ladder = []failover.LadderStep{{After: 2, Interval: 5 * time.Minute}, {After: 6, Interval: 15 * time.Minute}}
		}
		clk := failover.NewManualClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
		m, err := failover.NewMachine(cfg, clk)
		if err != nil {
			t.Fatal(err)
		}
		mode, prolongedThisEpisode := m.Mode(), 0
		for step := range 2000 {
			clk.Advance(time.Duration(rng.IntN(300)) * time.Second)
			gen := m.Generation()
			var r failover.Result
			switch rng.IntN(6) {
			case 0, 1, 2:
				r = m.Record(gen-uint64(rng.IntN(2)), failover.Kind(1+rng.IntN(2)), failover.Success, "")
			case 3:
				r = m.Record(gen, failover.Kind(1+rng.IntN(2)), failover.Outcome(1+rng.IntN(3)), "x")
			default:
				r = m.Tick(rng.IntN(10))
			}
			transitions += len(r.Transitions)
			for _, a := range r.Alerts {
				seen[a.Kind]++
			}
			for _, tr := range r.Transitions {
				if tr.From != mode || tr.To == tr.From {
					t.Fatalf("seed %d step %d: transition %v from mode %s", seed, step, tr, mode)
				}
				mode = tr.To
				prolongedThisEpisode = 0
			}
			if got := m.Generation() - gen; got != uint64(len(r.Transitions)) {
				t.Fatalf("seed %d step %d: generation moved %d for %d transitions", seed, step, got, len(r.Transitions))
			}
			failovers := 0
			for _, a := range r.Alerts {
				switch a.Kind {
				case failover.AlertFailover, failover.AlertHeartbeat:
					failovers++
				case failover.AlertProlongedPolling:
					prolongedThisEpisode++
				}
			}
			if len(r.Transitions) == 1 && r.Transitions[0].To == failover.PollingOn && failovers != 1 {
				t.Fatalf("seed %d step %d: failover without its alert: %+v", seed, step, r)
			}
			if prolongedThisEpisode > 1 {
				t.Fatalf("seed %d step %d: second prolonged-polling alert in one episode", seed, step)
			}
			if !cfg.Enabled && (m.Mode() != failover.PollingOn || !r.Empty()) {
				t.Fatalf("seed %d step %d: disabled machine: mode %s result %+v", seed, step, m.Mode(), r)
			}
			if s := m.Status(); s.Mode != m.Mode() || s.Mode != mode || (m.Mode() == failover.PollingOn) != m.PollingEnabled() {
				t.Fatalf("seed %d step %d: status mode %s, machine %s, tracked %s", seed, step, s.Mode, m.Mode(), mode)
			}
			if (m.OffInterval() != 0) != (mode == failover.PollingOff && cfg.Ladder != nil) {
				t.Fatalf("seed %d step %d: off interval %v in mode %s", seed, step, m.OffInterval(), mode)
			}
		}
	}
	if transitions < 100 || seen[failover.AlertFailover] == 0 || seen[failover.AlertHeartbeat] == 0 || seen[failover.AlertProlongedPolling] == 0 {
		t.Fatalf("the walk missed paths: %d transitions, alerts %v", transitions, seen)
	}
}
