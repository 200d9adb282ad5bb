package tracker

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Memory is a Tracker held in memory: for tests and for library users
// without a database. It forgets everything when the process exits, and its
// MarkDone cannot join a database transaction: it applies the mark at once.
type Memory struct {
	cfg Config
	mu  sync.Mutex
	m   map[key]*Record
	tok map[key]string
}

// NewMemory returns an empty Memory tracker.
func NewMemory(cfg Config) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Memory{cfg: cfg, m: make(map[key]*Record), tok: make(map[key]string)}, nil
}

var (
	_ Tracker   = (*Memory)(nil)
	_ Counter   = (*Memory)(nil)
	_ Postponer = (*Memory)(nil)
)

// Claim implements Tracker.
func (t *Memory) Claim(ctx context.Context, r Request) (Claim, error) {
	if err := ctx.Err(); err != nil {
		return Claim{}, fmt.Errorf("tracker: claim: %w", err)
	}
	if err := checkRequest(r); err != nil {
		return Claim{}, err
	}
	now := t.cfg.now()
	if t.cfg.tooOld(r, now) {
		return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrTooOld}
	}
	k := key{r.Server, r.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.m[k]
	if rec == nil {
		rec = &Record{Server: r.Server, Name: r.Name, Via: r.Via, FirstSeen: now}
		t.m[k] = rec
	} else {
		switch rec.State {
		case StateDone:
			return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrDone}
		case StateClaimed:
			if now.Before(rec.LeaseUntil) {
				return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrTaken, Until: rec.LeaseUntil}
			}
		case StateQuarantined:
			if !r.Force {
				return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrQuarantined}
			}
			rec.Attempts = 0
		case StatePending, StateFailed:
			if !r.Force && now.Before(rec.RetryAt) {
				return Claim{}, &ClaimError{Server: r.Server, Name: r.Name, Err: ErrNotDue, Until: rec.RetryAt}
			}
		}
	}
	tok := newToken()
	t.tok[k] = tok
	rec.State = StateClaimed
	rec.LeaseUntil = now.Add(t.cfg.Lease)
	rec.RetryAt = time.Time{}
	rec.Updated = now
	return Claim{Server: r.Server, Name: r.Name, Token: tok, Via: rec.Via, Attempts: rec.Attempts, FirstSeen: rec.FirstSeen, LeaseUntil: rec.LeaseUntil}, nil
}

// settle runs f on the record of a current claim.
func (t *Memory) settle(ctx context.Context, op string, c Claim, f func(rec *Record, now time.Time)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tracker: %s: %w", op, err)
	}
	if err := checkClaim(c); err != nil {
		return err
	}
	k := key{c.Server, c.Name}
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.m[k]
	if rec == nil || rec.State != StateClaimed || t.tok[k] != c.Token {
		return fmt.Errorf("tracker: %s %s/%s: %w", op, c.Server, c.Name, ErrLeaseLost)
	}
	now := t.cfg.now()
	delete(t.tok, k)
	rec.LeaseUntil = time.Time{}
	rec.Updated = now
	f(rec, now)
	return nil
}

// MarkDone implements Tracker. tx is ignored.
func (t *Memory) MarkDone(ctx context.Context, _ Execer, c Claim, d Digest) error {
	return t.settle(ctx, "mark done", c, func(rec *Record, now time.Time) {
		rec.State = StateDone
		rec.SHA256, rec.Size = d.SHA256, d.Size
		rec.DoneAt = now
		rec.LastError = ""
	})
}

// Fail implements Tracker.
func (t *Memory) Fail(ctx context.Context, c Claim, reason string, retryAt time.Time) (State, error) {
	var st State
	err := t.settle(ctx, "fail", c, func(rec *Record, now time.Time) {
		rec.Attempts++
		rec.LastError = reason
		if rec.Attempts >= t.cfg.MaxAttempts {
			rec.State = StateQuarantined
		} else {
			rec.State = StateFailed
			rec.RetryAt = retryAt
		}
		st = rec.State
	})
	return st, err
}

// Quarantine implements Tracker.
func (t *Memory) Quarantine(ctx context.Context, c Claim, reason string) error {
	return t.settle(ctx, "quarantine", c, func(rec *Record, now time.Time) {
		rec.Attempts++
		rec.LastError = reason
		rec.State = StateQuarantined
	})
}

// Release implements Tracker.
func (t *Memory) Release(ctx context.Context, c Claim, retryAt time.Time) error {
	return t.settle(ctx, "release", c, func(rec *Record, now time.Time) {
		rec.State = StatePending
		rec.RetryAt = retryAt
	})
}

// Postpone implements Postponer.
func (t *Memory) Postpone(ctx context.Context, c Claim, reason string, retryAt time.Time) error {
	return t.settle(ctx, "postpone", c, func(rec *Record, now time.Time) {
		rec.State = StatePending
		rec.RetryAt = retryAt
		rec.LastError = reason
	})
}

// Get implements Tracker.
func (t *Memory) Get(ctx context.Context, server, name string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("tracker: get: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.m[key{server, name}]
	if rec == nil {
		return Record{}, fmt.Errorf("tracker: get %s/%s: %w", server, name, ErrNotFound)
	}
	return *rec, nil
}

// List implements Tracker.
func (t *Memory) List(ctx context.Context, state State, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tracker: list: %w", err)
	}
	if !state.Valid() {
		return nil, fmt.Errorf("%w: state %q", ErrInvalid, state)
	}
	t.mu.Lock()
	var out []Record
	for _, rec := range t.m {
		if rec.State == state {
			out = append(out, *rec)
		}
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Updated.Equal(out[j].Updated) {
			return out[i].Updated.After(out[j].Updated)
		}
		if out[i].Server != out[j].Server {
			return out[i].Server < out[j].Server
		}
		return out[i].Name < out[j].Name
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Counts implements Counter.
func (t *Memory) Counts(ctx context.Context) (map[State]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tracker: counts: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[State]int)
	for _, rec := range t.m {
		out[rec.State]++
	}
	return out, nil
}
