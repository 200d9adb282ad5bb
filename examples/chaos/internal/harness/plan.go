package harness

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// ActionKind is one step of a run's schedule: a file written, a webhook
// message sent, or a fault at one seam.
type ActionKind uint8

// Action kinds. Faults at each seam: SSH (cut, cut mid-read, restart,
// stall), SQLite (busy), the process (kill), Discord (outage, lost replies);
// webhook faults (drop, duplicate, delay, reorder) are in how the Message
// actions are laid out.
const (
	ActWrite     ActionKind = iota // write File into the SFTP folder, in two chunks
	ActMessage                     // send File's webhook message (MsgID) to the worker
	ActCut                         // cut every SSH connection (sftptest CutConnections)
	ActCutRead                     // arm the proxy: cut the next large server reply mid-transfer, for Dur
	ActRestart                     // stop the SSH server for Dur, then start it
	ActStall                       // the SSH server ignores keepalives for Dur
	ActBusy                        // the parent holds a SQLite write transaction for Dur
	ActKill                        // SIGKILL the worker; a new one starts after Dur
	ActOutage                      // Discord answers 503 for Dur
	ActLostReply                   // Discord makes the next N posts but their replies are lost
	ActTwin                        // a second worker runs on the same database for Dur, then is SIGKILLed
	ActArchive                     // the archive folder cannot be written for Dur (a full disk)
)

var actionNames = [...]string{"write", "message", "ssh-cut", "ssh-cut-mid-read", "ssh-restart", "ssh-stall",
	"sqlite-busy", "kill", "discord-outage", "discord-lost-reply", "twin-worker", "archive-unwritable"}

// String returns the action's name.
func (k ActionKind) String() string {
	if int(k) < len(actionNames) {
		return actionNames[k]
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// Action is one timed step; At is from the start of the run.
type Action struct {
	At   time.Duration
	Kind ActionKind
	// File indexes Plan.Files (ActWrite, ActMessage).
	File int
	// MsgID is the Discord message ID (ActMessage); a duplicate that
	// Discord re-delivers keeps the ID, one the notifier re-sends has a new one.
	MsgID string
	// Note says which webhook fault made this message (dup-same-id,
	// dup-new-id, delayed, reordered).
	Note string
	Dur  time.Duration
	N    int
}

// Plan is a run's schedule, drawn from its seed alone.
type Plan struct {
	Seed    uint64
	Matches int
	Files   []File
	Actions []Action
	// FileRate is the trigger's rate limit (per second) in this run; a low
	// one makes the rate-limited path (push Failure, polling) part of it.
	FileRate int
	// Webhook fault counts.
	Dropped, Duplicated, Delayed, Reordered int
}

// faultKinds are the fault actions and their weights.
var faultKinds = []struct {
	k ActionKind
	w int
}{{ActCut, 3}, {ActCutRead, 3}, {ActRestart, 2}, {ActStall, 1}, {ActBusy, 3}, {ActKill, 3}, {ActOutage, 2}, {ActLostReply, 2}, {ActTwin, 2}, {ActArchive, 2}}

// NewPlan draws a schedule from seed. The file names are dated the day
// before today (inside the lookback), so a seed replays the same schedule
// of the same contents on any day. Intensity (1 and up; below 1 counts as
// 1) multiplies the number of random faults; the same seed and intensity
// give the same plan.
func NewPlan(seed uint64, today time.Time, intensity int) *Plan {
	intensity = max(intensity, 1)
	rng := rand.New(rand.NewPCG(seed, 0x6368616f73))
	p := &Plan{Seed: seed, Matches: 2 + rng.IntN(4)}
	start := today.UTC().Truncate(24 * time.Hour).Add(-24*time.Hour + time.Duration(18+rng.IntN(4))*time.Hour)
	p.Files = genMatches(rng, start, p.Matches, 6+rng.IntN(10))
	p.FileRate = 1000
	if rng.IntN(5) == 0 {
		p.FileRate = 2 + rng.IntN(3)
	}
	msg := 0
	newID := func() string {
		msg++
		return fmt.Sprint(uint64(1300000000000000000) + seed%1000000*1000 + uint64(msg))
	}
	at := 50 * time.Millisecond
	var msgs []Action
	written := make([]time.Duration, len(p.Files))
	for i := range p.Files {
		written[i] = at
		p.Actions = append(p.Actions, Action{At: at, Kind: ActWrite, File: i})
		switch r := rng.IntN(100); {
		case r < 15:
			p.Dropped++
		default:
			m := Action{At: at + time.Duration(5+rng.IntN(25))*time.Millisecond, Kind: ActMessage, File: i, MsgID: newID()}
			if rng.IntN(100) < 20 {
				m.At += time.Duration(100+rng.IntN(500)) * time.Millisecond
				m.Note = "delayed"
				p.Delayed++
			}
			msgs = append(msgs, m)
			if rng.IntN(100) < 15 {
				d := m
				d.At += time.Duration(rng.IntN(300)) * time.Millisecond
				d.Note = "dup-same-id"
				if rng.IntN(2) == 0 {
					d.MsgID, d.Note = newID(), "dup-new-id"
				}
				msgs = append(msgs, d)
				p.Duplicated++
			}
		}
		at += time.Duration(40+rng.IntN(80)) * time.Millisecond
	}
	// Reorder: swap the send times of neighbouring messages; a message
	// never precedes its file (the notifier posts after the write).
	for i := 1; i < len(msgs); i++ {
		if rng.IntN(100) < 12 {
			msgs[i].At, msgs[i-1].At = msgs[i-1].At, msgs[i].At
			for _, j := range []int{i - 1, i} {
				msgs[j].At = max(msgs[j].At, written[msgs[j].File]+2*time.Millisecond)
			}
			msgs[i].Note, msgs[i-1].Note = strings.TrimPrefix(msgs[i].Note+" reordered", " "), strings.TrimPrefix(msgs[i-1].Note+" reordered", " ")
			p.Reordered++
		}
	}
	p.Actions = append(p.Actions, msgs...)

	span := at + 200*time.Millisecond
	total := 0
	for _, f := range faultKinds {
		total += f.w
	}
	faults := []ActionKind{ActKill} // every run has a crash
	for range (3 + rng.IntN(6)) * intensity {
		r := rng.IntN(total)
		for _, f := range faultKinds {
			if r < f.w {
				faults = append(faults, f.k)
				break
			}
			r -= f.w
		}
	}
	for _, k := range faults {
		a := Action{At: time.Duration(rng.Int64N(int64(span))), Kind: k}
		switch k {
		case ActCutRead:
			a.Dur = time.Duration(200+rng.IntN(800)) * time.Millisecond
		case ActRestart:
			a.Dur = time.Duration(rng.IntN(500)) * time.Millisecond
		case ActStall:
			a.Dur = time.Duration(300+rng.IntN(700)) * time.Millisecond
		case ActBusy:
			a.Dur = time.Duration(50+rng.IntN(600)) * time.Millisecond
			if rng.IntN(5) == 0 { // longer than the claim lease
				a.Dur = time.Duration(1200+rng.IntN(800)) * time.Millisecond
			}
		case ActTwin:
			a.Dur = time.Duration(200+rng.IntN(1000)) * time.Millisecond
		case ActArchive:
			a.Dur = time.Duration(100+rng.IntN(700)) * time.Millisecond
		case ActKill:
			a.Dur = time.Duration(rng.IntN(300)) * time.Millisecond
		case ActOutage:
			a.Dur = time.Duration(100+rng.IntN(900)) * time.Millisecond
		case ActLostReply:
			a.N = 1 + rng.IntN(3)
		}
		p.Actions = append(p.Actions, a)
	}
	slices.SortStableFunc(p.Actions, func(a, b Action) int { return cmp.Compare(a.At, b.At) })
	return p
}

// FaultCounts returns how many actions of each fault kind the plan has,
// webhook faults included.
func (p *Plan) FaultCounts() map[string]int {
	out := map[string]int{}
	for _, a := range p.Actions {
		if a.Kind != ActWrite && a.Kind != ActMessage {
			out[a.Kind.String()]++
		}
	}
	for k, v := range map[string]int{"webhook-drop": p.Dropped, "webhook-dup": p.Duplicated,
		"webhook-delay": p.Delayed, "webhook-reorder": p.Reordered} {
		if v > 0 {
			out[k] = v
		}
	}
	if p.FileRate < 100 {
		out["webhook-rate-limit"] = 1
	}
	return out
}

// String renders the schedule, one action a line, for -v.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d matches, %d files, trigger rate %d/s\n", p.Seed, p.Matches, len(p.Files), p.FileRate)
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "  %6dms %-18s", a.At.Milliseconds(), a.Kind)
		switch a.Kind {
		case ActWrite:
			fmt.Fprintf(&b, " %s", p.Files[a.File].Name)
		case ActMessage:
			fmt.Fprintf(&b, " %s id %s %s", p.Files[a.File].Name, a.MsgID, a.Note)
		case ActLostReply:
			fmt.Fprintf(&b, " next %d", a.N)
		default:
			if a.Dur > 0 {
				fmt.Fprintf(&b, " for %dms", a.Dur.Milliseconds())
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
