package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/roundfeed/roundfeed/ingest"
)

// check compares the database, the archive and the Discord stand-in with
// the files written: every file tracked once and done, stored once (one
// rounds or endstats row), queued once (one outbox row of its kind with
// the right nonce) with the file's exact bytes (sha256, one player row per
// line), and posted once (one Discord message per nonce, whose ID
// the outbox row holds); every round 2 paired with its round 1; the
// archive byte-identical; no nonce sent twice by a worker that had its
// reply.
func (r *run) check() []string {
	var probs []string
	bad := func(format string, a ...any) { probs = append(probs, fmt.Sprintf(format, a...)) }

	type fileRow struct {
		state, lastErr, sha string
		attempts            int
	}
	tracked := map[string]fileRow{}
	rows, err := r.db.Query(`SELECT name, state, attempts, last_error, sha256 FROM processed_files WHERE server = ?`, Server)
	if err != nil {
		return []string{fmt.Sprintf("query processed_files: %v", err)}
	}
	for rows.Next() {
		var n string
		var fr fileRow
		if err := rows.Scan(&n, &fr.state, &fr.attempts, &fr.lastErr, &fr.sha); err != nil {
			rows.Close()
			return []string{fmt.Sprintf("scan processed_files: %v", err)}
		}
		tracked[n] = fr
	}
	rows.Close()

	count := func(q string, args ...any) map[string]int {
		out := map[string]int{}
		rows, err := r.db.Query(q, args...)
		if err != nil {
			bad("%s: %v", q, err)
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				bad("%s: %v", q, err)
				return out
			}
			out[k] = n
		}
		return out
	}
	rounds := count(`SELECT file_name, COUNT(*) FROM rounds WHERE server = ? GROUP BY file_name`, Server)
	endstats := count(`SELECT file_name, COUNT(*) FROM endstats WHERE server = ? GROUP BY file_name`, Server)
	outboxN := count(`SELECT file_name || '|' || kind, COUNT(*) FROM outbox WHERE server = ? GROUP BY file_name, kind`, Server)
	storedSHA := map[string]string{}
	for _, q := range []string{`SELECT file_name, sha256 FROM rounds WHERE server = ?`, `SELECT file_name, sha256 FROM endstats WHERE server = ?`} {
		srows, err := r.db.Query(q, Server)
		if err != nil {
			bad("%s: %v", q, err)
			continue
		}
		for srows.Next() {
			var n, h string
			if err := srows.Scan(&n, &h); err != nil {
				bad("%s: %v", q, err)
				break
			}
			storedSHA[n] = h
		}
		srows.Close()
	}
	rawPlayers := count(`SELECT r.file_name, COUNT(p.id) FROM rounds r LEFT JOIN player_stats p ON p.round_id = r.id AND p.kind = 'raw' WHERE r.server = ? GROUP BY r.id`, Server)
	paired := count(`SELECT file_name, 1 FROM rounds WHERE server = ? AND round_number = 2 AND r2_status = 'differential'`, Server)

	type obRow struct{ nonce, msgID string }
	outbox := map[string]obRow{}
	orows, err := r.db.Query(`SELECT file_name || '|' || kind, nonce, message_id FROM outbox WHERE server = ?`, Server)
	if err != nil {
		bad("query outbox: %v", err)
	} else {
		for orows.Next() {
			var k string
			var o obRow
			if err := orows.Scan(&k, &o.nonce, &o.msgID); err != nil {
				bad("scan outbox: %v", err)
				break
			}
			outbox[k] = o
		}
		orows.Close()
	}
	if err := r.db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM outbox WHERE kind = 'round' AND json_extract(payload, '$.orphan')),
		(SELECT COUNT(*) FROM endstats WHERE round_id IS NULL)`).Scan(&r.res.OrphanPosts, &r.res.UnlinkedEndstats); err != nil {
		bad("count orphans: %v", err)
	}
	msgs, replays, dprobs := r.dc.snapshot()
	r.res.Replays, r.res.ReplaysAfterLostReply = replays[0], replays[1]
	r.res.MaxReplayGap = r.dc.replayGap()
	probs = append(probs, dprobs...)

	want := map[string]bool{}
	wantNonces := map[string]bool{}
	for _, f := range r.plan.Files {
		want[f.Name] = true
		fr, ok := tracked[f.Name]
		switch {
		case !ok:
			bad("%s: not in processed_files", f.Name)
		case fr.state != "done":
			bad("%s: state %s after %d attempts (last error %q)", f.Name, fr.state, fr.attempts, fr.lastErr)
		}
		sum := sha256.Sum256(f.Data)
		if h := hex.EncodeToString(sum[:]); ok && (fr.sha != h || storedSHA[f.Name] != h) {
			bad("%s: stored bytes differ from the file: sha256 tracked %q, stored %q, file %s", f.Name, fr.sha, storedSHA[f.Name], h)
		}
		if !f.Endstats() {
			if want := bytes.Count(f.Data, []byte("\n")) - 1; rawPlayers[f.Name] != want {
				bad("%s: %d player rows stored, the file has %d players", f.Name, rawPlayers[f.Name], want)
			}
		}
		kind, table := ingest.PostRound, rounds
		if f.Endstats() {
			kind, table = ingest.PostAwards, endstats
		}
		if n := table[f.Name]; n != 1 {
			bad("%s: stored %d times", f.Name, n)
		}
		key := f.Name + "|" + string(kind)
		if n := outboxN[key]; n != 1 {
			bad("%s: %d outbox rows of kind %s", f.Name, n, kind)
		}
		nonce := ingest.Nonce(Server, f.Name, kind)
		wantNonces[nonce] = true
		o := outbox[key]
		if o.nonce != "" && o.nonce != nonce {
			bad("%s: outbox nonce %s, want %s", f.Name, o.nonce, nonce)
		}
		m, posted := msgs[nonce]
		switch {
		case !posted:
			bad("%s: never posted (outbox message id %q)", f.Name, o.msgID)
		case o.msgID != m.ID:
			bad("%s: outbox holds message id %q, Discord made %s", f.Name, o.msgID, m.ID)
		case m.Post.File != f.Name || m.Post.Kind != kind:
			bad("%s: nonce %s posted for %s %s", f.Name, nonce, m.Post.Kind, m.Post.File)
		}
		if !f.Endstats() && strings.Contains(f.Name, "-round-2") && paired[f.Name] != 1 {
			bad("%s: round 2 not paired with its round 1", f.Name)
		}
		got, err := os.ReadFile(filepath.Join(r.base.ArchiveDir, Server, f.Name))
		if err != nil || !bytes.Equal(got, f.Data) {
			bad("%s: archive copy differs (%d bytes, want %d, err %v)", f.Name, len(got), len(f.Data), err)
		}
	}
	for n := range tracked {
		if !want[n] {
			bad("%s: tracked but never written", n)
		}
	}
	for n, m := range msgs {
		if !wantNonces[n] {
			bad("Discord message %s for %s %s: nonce %s matches no file", m.ID, m.Post.Kind, m.Post.File, n)
		}
	}
	return probs
}
