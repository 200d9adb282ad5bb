package notify

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

func mustNote(t *testing.T, name string) send.Notification {
	t.Helper()
	n, err := parser.ValidateName(name)
	if err != nil {
		t.Fatal(err)
	}
	return send.Notification{Name: n, Size: 1000}
}

func TestSpoolSurvivesRestartAndCrashWindows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	now := time.Now()
	sp, err := openSpool(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	a := mustNote(t, "2026-01-15-210000-supply-round-1.txt")
	aEnd := mustNote(t, "2026-01-15-210000-supply-round-1-endstats.txt")
	b := mustNote(t, "2026-01-15-212000-supply-round-2.txt")
	for _, n := range []send.Notification{b, aEnd, a, a} {
		if _, err := sp.enqueue(n, now); err != nil {
			t.Fatal(err)
		}
	}
	if sp.len() != 3 {
		t.Fatalf("%d pending, want 3 (a repeat is dropped)", sp.len())
	}
	head, _ := sp.head()
	if head.note.Name.Raw != a.Name.Raw {
		t.Fatalf("head %s, want the earliest stats file", head.note.Name.Raw)
	}

	// Crash after the sent marker, before the queue file went.
	if err := os.WriteFile(filepath.Join(dir, "sent", a.Name.Raw), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A torn enqueue, a corrupt entry and a hostile one.
	for name, data := range map[string]string{
		".tmp-123":                  "{",
		"00000000000000000900.json": "{not json",
		"00000000000000000901.json": `{"name":"../../etc/passwd-round-1.txt","size":5}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, "queue", name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	sp, err = openSpool(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for {
		it, ok := sp.head()
		if !ok {
			break
		}
		order = append(order, it.note.Name.Raw)
		if err := sp.done(it); err != nil {
			t.Fatal(err)
		}
	}
	if len(order) != 2 || order[0] != aEnd.Name.Raw || order[1] != b.Name.Raw {
		t.Fatalf("after restart sent %v", order)
	}
	q, _ := os.ReadDir(filepath.Join(dir, "queue"))
	var names []string
	for _, e := range q {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "00000000000000000900.json.bad" || names[1] != "00000000000000000901.json.bad" {
		t.Errorf("queue folder holds %v, want the two bad entries set aside", names)
	}
	// Sent files are never queued again.
	if added, _ := sp.enqueue(b, now); added {
		t.Error("a sent file was queued again")
	}
	// Markers older than the window are pruned; recent ones stay.
	old := now.Add(-100 * time.Hour)
	_ = os.Chtimes(filepath.Join(dir, "sent", a.Name.Raw), old, old)
	if n := sp.pruneSent(now, 96*time.Hour); n != 1 {
		t.Errorf("pruned %d markers, want 1", n)
	}
	if !sp.wasSent(b.Name.Raw) || sp.wasSent(a.Name.Raw) {
		t.Error("pruned the wrong marker")
	}
}
