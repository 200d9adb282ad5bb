package ingest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/roundfeed/roundfeed/parser"
)

// PostKind says what a post is about.
type PostKind string

const (
	// PostRound is a round's results (a stats file).
	PostRound PostKind = "round"
	// PostAwards is a round's awards (an endstats file).
	PostAwards PostKind = "awards"
)

// Post is the structured payload of an outbox row, stored as JSON. A
// Discord publisher renders embeds from it; nothing in it is
// Discord-specific, so a post can be re-rendered after a restart or by
// another publisher.
type Post struct {
	Kind   PostKind `json:"kind"`
	Server string   `json:"server"`
	// File is the file the post is about.
	File  string `json:"file"`
	Map   string `json:"map"`
	Round int    `json:"round"`
	// Title is a ready-made headline ("te_escape2 - Round 1").
	Title string `json:"title"`
	// Fields are extra name/value pairs, in display order.
	Fields []PostField `json:"fields,omitempty"`

	// Round posts.
	// Winner is "Axis", "Allies" or "" (no winner / unknown).
	Winner string `json:"winner,omitempty"`
	// Outcome is "Fullhold", "Completed" or "".
	Outcome         string `json:"outcome,omitempty"`
	DurationSeconds int    `json:"duration_seconds,omitempty"`
	// Differential: the figures are R2-only (R1 subtracted). Orphan: a
	// round 2 stored without its R1 (figures are cumulative).
	Differential bool   `json:"differential,omitempty"`
	Orphan       bool   `json:"orphan,omitempty"`
	MVP          string `json:"mvp,omitempty"`
	// Players is the top-players table, best first (at most TopPlayers).
	Players []PostPlayer `json:"players,omitempty"`

	// Awards posts.
	Awards []PostAward `json:"awards,omitempty"`
	// RoundFile is the stats file the awards are linked to, "" when unlinked.
	RoundFile string `json:"round_file,omitempty"`
}

// PostField is one extra name/value pair.
type PostField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PostPlayer is one row of the top-players table.
type PostPlayer struct {
	Name     string  `json:"name"`
	Team     int     `json:"team"`
	Kills    int     `json:"kills"`
	Deaths   int     `json:"deaths"`
	Damage   int     `json:"damage"`
	DPM      float64 `json:"dpm"`
	Accuracy float64 `json:"accuracy"`
	IsBot    bool    `json:"is_bot,omitempty"`
}

// PostAward is one award row.
type PostAward struct {
	Title  string `json:"title"`
	Player string `json:"player"`
	Value  string `json:"value"`
}

// TopPlayers is how many players a round post lists.
const TopPlayers = 10

// MaxNonceLen is the longest nonce Discord accepts.
const MaxNonceLen = 25

// Nonce derives the outbox nonce of a post: the kind's first letter and 24
// hex digits of SHA-256(server NUL file NUL kind), 25 characters. The same
// file and kind always give the same nonce, which the outbox keeps unique.
func Nonce(server, file string, kind PostKind) string {
	h := sha256.Sum256([]byte(server + "\x00" + file + "\x00" + string(kind)))
	return string(kind[0]) + hex.EncodeToString(h[:12])
}

func winnerName(team int) string {
	switch team {
	case 1:
		return "Axis"
	case 2:
		return "Allies"
	}
	return ""
}

// RoundPost builds the post of a stats file. r2 may be nil (round 1).
func RoundPost(server string, s *parser.Stats, r2 *parser.R2) Post {
	p := Post{
		Kind:            PostRound,
		Server:          server,
		File:            s.File.Name,
		Map:             s.Header.Map,
		Round:           s.File.Round,
		Winner:          winnerName(s.Header.WinnerNormalized),
		Outcome:         s.Round.RoundOutcome,
		DurationSeconds: s.Header.RoundTimeSeconds,
	}
	if p.Map == "" {
		p.Map = s.File.Map
	}
	p.Title = fmt.Sprintf("%s - Round %d", p.Map, p.Round)
	if s.Round.HasMVP {
		p.MVP = s.Round.MVP
	}
	switch {
	case r2 != nil && r2.Status == parser.StatusDifferential:
		p.Differential = true
		if r2.HasRound && r2.Round.HasMVP {
			p.MVP = r2.Round.MVP
		}
		for _, d := range r2.Players {
			p.Players = append(p.Players, PostPlayer{Name: d.Name, Team: d.Team, Kills: d.Kills, Deaths: d.Deaths,
				Damage: d.DamageGiven, DPM: d.DPM, Accuracy: d.Accuracy, IsBot: d.IsBot})
		}
		p.Fields = append(p.Fields, PostField{Name: "Round 1", Value: r2.R1File})
	default:
		if r2 != nil && r2.Status == parser.StatusOrphan {
			p.Orphan = true
			p.Fields = append(p.Fields, PostField{Name: "Round 1", Value: "not found: cumulative figures"})
		}
		for _, pl := range s.Players {
			p.Players = append(p.Players, PostPlayer{Name: pl.Name, Team: pl.Team, Kills: pl.Kills, Deaths: pl.Deaths,
				Damage: pl.DamageGiven, DPM: pl.DPM, Accuracy: pl.Accuracy, IsBot: pl.IsBot})
		}
	}
	slices.SortStableFunc(p.Players, func(a, b PostPlayer) int {
		if c := cmp.Compare(b.Kills, a.Kills); c != 0 {
			return c
		}
		return cmp.Compare(b.DPM, a.DPM)
	})
	if len(p.Players) > TopPlayers {
		p.Players = p.Players[:TopPlayers]
	}
	return p
}

// AwardsPost builds the post of an endstats file; roundFile is the linked
// stats file ("" when unlinked).
func AwardsPost(server string, e *parser.Endstats, roundFile string) Post {
	n := e.File.Parsed
	p := Post{Kind: PostAwards, Server: server, File: e.File.Name, Map: n.Map, Round: n.Round, RoundFile: roundFile}
	p.Title = fmt.Sprintf("Awards: %s - Round %d", n.Map, n.Round)
	for _, a := range e.Awards {
		p.Awards = append(p.Awards, PostAward{Title: a.Title, Player: a.Player, Value: a.Value})
	}
	if roundFile == "" {
		p.Fields = append(p.Fields, PostField{Name: "Round", Value: "not found"})
	}
	return p
}

// Publisher sends posts somewhere (Discord in the bot).
//
// Publish sends p and returns the ID of the created message. The nonce is
// the same on every retry of a post: an implementation that can make the
// send idempotent with it (Discord's enforce_nonce) must. An error matching
// ErrPermanent means a retry will fail the same way: the outbox stops
// retrying the post at once. Any other error is retried with backoff.
// Publish must be safe for concurrent use and must not retry by itself.
type Publisher interface {
	Publish(ctx context.Context, nonce string, p Post) (messageID string, err error)
}

// ErrPermanent marks a publish error that retrying cannot fix.
var ErrPermanent = errors.New("ingest: permanent publish failure")

// ConsolePublisher writes one line per post to W (for demos and the
// console bot). Message IDs are "console-N".
type ConsolePublisher struct {
	W  io.Writer
	mu sync.Mutex
	n  int
}

// Publish implements Publisher.
func (c *ConsolePublisher) Publish(_ context.Context, nonce string, p Post) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	line := fmt.Sprintf("[%s] %s", p.Server, p.Title)
	if p.MVP != "" {
		line += " | MVP " + p.MVP
	}
	for i, pl := range p.Players {
		if i == 3 {
			break
		}
		line += fmt.Sprintf(" | %s %d/%d", pl.Name, pl.Kills, pl.Deaths)
	}
	if len(p.Awards) > 0 {
		line += fmt.Sprintf(" | %d awards", len(p.Awards))
	}
	if _, err := fmt.Fprintf(c.W, "%s (nonce %s)\n", line, nonce); err != nil {
		return "", fmt.Errorf("ingest: console publish: %w", err)
	}
	return fmt.Sprintf("console-%d", c.n), nil
}
