package poll

import (
	"sync"
	"time"

	"github.com/roundfeed/roundfeed/failover"
)

// Guard makes a *failover.Machine safe for concurrent use. Every method takes
// one mutex; a Result that holds a transition or an alert is handed to the
// onResult callback after that mutex is released, so the callback may call
// Status and friends. Callbacks are delivered one at a time, in the order the
// machine produced them; onResult must therefore not call Record or Tick
// (that would wait for itself).
type Guard struct {
	mu   sync.Mutex
	m    *failover.Machine
	subs []chan struct{} // woken (non-blocking) after each transition

	// Callbacks run in the order of their tickets, taken under mu and
	// served under cbMu: never the two locks nested the other way round.
	cbMu     sync.Mutex
	cbTurn   *sync.Cond
	issued   uint64 // tickets handed out (under mu)
	served   uint64 // callbacks finished (under cbMu)
	onResult func(failover.Result)
}

// NewGuard wraps m, which must not be used directly afterwards. onResult may
// be nil.
func NewGuard(m *failover.Machine, onResult func(failover.Result)) *Guard {
	g := &Guard{m: m, onResult: onResult}
	g.cbTurn = sync.NewCond(&g.cbMu)
	return g
}

// deliver runs with g.mu held and releases it.
func (g *Guard) deliver(r failover.Result) failover.Result {
	if r.Empty() {
		g.mu.Unlock()
		return r
	}
	if len(r.Transitions) > 0 {
		g.wake()
	}
	ticket := g.issued
	g.issued++
	g.mu.Unlock()
	g.cbMu.Lock()
	defer g.cbMu.Unlock()
	for g.served != ticket {
		g.cbTurn.Wait()
	}
	defer func() {
		g.served++
		g.cbTurn.Broadcast()
	}()
	if g.onResult != nil {
		g.onResult(r)
	}
	return r
}

// subscribe returns a channel that receives (without blocking the sender)
// after each transition.
func (g *Guard) subscribe() <-chan struct{} {
	c := make(chan struct{}, 1)
	g.mu.Lock()
	g.subs = append(g.subs, c)
	g.mu.Unlock()
	return c
}

// Generation returns the machine's generation; see failover.Machine.
func (g *Guard) Generation() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.Generation()
}

// Record passes an outcome to the machine; see failover.Machine.Record. The
// result is also returned.
func (g *Guard) Record(gen uint64, kind failover.Kind, o failover.Outcome, reason string) failover.Result {
	g.mu.Lock()
	return g.deliver(g.m.Record(gen, kind, o, reason))
}

// Tick passes the players in voice to the machine; see failover.Machine.Tick.
func (g *Guard) Tick(players int) failover.Result {
	g.mu.Lock()
	return g.deliver(g.m.Tick(players))
}

// Quiet reports a quiet folder check to the machine; see
// failover.Machine.Quiet. It never causes a transition.
func (g *Guard) Quiet() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.m.Quiet()
}

// Status returns the machine's status.
func (g *Guard) Status() failover.Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.Status()
}

// Mode returns the machine's mode.
func (g *Guard) Mode() failover.Mode {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.Mode()
}

// PollingEnabled reports whether polling runs at its normal rate.
func (g *Guard) PollingEnabled() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.PollingEnabled()
}

// state returns the mode and the ladder interval under one lock.
func (g *Guard) state() (failover.Mode, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.Mode(), g.m.OffInterval()
}

// Snapshot returns the machine's snapshot; see failover.Machine.Snapshot.
func (g *Guard) Snapshot() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.Snapshot()
}

// Restore loads a snapshot; see failover.Machine.Restore. Pollers replan.
func (g *Guard) Restore(b []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.m.Restore(b); err != nil {
		return err
	}
	g.wake()
	return nil
}

// wake notifies subscribers; g.mu is held.
func (g *Guard) wake() {
	for _, c := range g.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
