package discord

import (
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Embed colours.
const (
	ColorGreen  = 0x2ecc71 // webhook primary, healthy
	ColorOrange = 0xe67e22 // SSH polling backup active
	ColorBlue   = 0x3498db // round results
	ColorGold   = 0xf1c40f // awards
	ColorRed    = 0xe74c3c // alerts
)

// PlayerLine is one row of a round's top-players table.
type PlayerLine struct {
	Name     string
	Kills    int
	Deaths   int
	DPM      float64
	Accuracy float64 // percent
}

// RoundView is what a round post shows. It is built from the structured
// outbox payload, so a post can be re-rendered after a restart.
type RoundView struct {
	Server   string
	File     string
	Map      string
	Round    int
	Winner   string // "Axis", "Allies" or "" when none
	Outcome  string // "Fullhold", "Completed" or ""
	Duration time.Duration
	// Players are sorted best first; the embed shows the first MaxTablePlayers.
	Players []PlayerLine
	MVP     string
	// Differential says the figures are round-2-only (R2 minus R1).
	Differential bool
}

// Award is one endstats award.
type Award struct {
	Title  string
	Player string
	Value  string
}

// AwardsView is what an endstats post shows.
type AwardsView struct {
	Server string
	File   string
	Map    string
	Round  int
	Awards []Award
}

// MaxTablePlayers is how many players the round table lists.
const MaxTablePlayers = 8

// maxAwards keeps the awards embed under Discord's 25-field limit.
const maxAwards = 24

// RoundEmbed renders a round post: map, round, winner, duration, a table of
// the top players (kills, deaths, DPM, accuracy) and the MVP.
func RoundEmbed(v RoundView) *discordgo.MessageEmbed {
	winner := v.Winner
	if winner == "" {
		winner = "none"
	}
	if v.Outcome != "" {
		winner += " (" + v.Outcome + ")"
	}
	e := &discordgo.MessageEmbed{
		Title: fmt.Sprintf("%s - Round %d", v.Map, v.Round),
		Color: ColorBlue,
		Fields: []*discordgo.MessageEmbedField{
			{Name: "Map", Value: nonEmpty(v.Map), Inline: true},
			{Name: "Round", Value: fmt.Sprint(v.Round), Inline: true},
			{Name: "Winner", Value: winner, Inline: true},
			{Name: "Duration", Value: clock(v.Duration), Inline: true},
		},
		Footer: &discordgo.MessageEmbedFooter{Text: v.File},
	}
	if v.Differential {
		e.Description = "Round 2 only (round 1 subtracted)"
	}
	var b strings.Builder
	b.WriteString("```\n")
	fmt.Fprintf(&b, "%-16s %3s %3s %6s %5s\n", "player", "K", "D", "DPM", "ACC")
	n := min(len(v.Players), MaxTablePlayers)
	for _, p := range v.Players[:n] {
		fmt.Fprintf(&b, "%-16s %3d %3d %6.1f %4.1f%%\n", truncate(p.Name, 16), p.Kills, p.Deaths, p.DPM, p.Accuracy)
	}
	if n == 0 {
		b.WriteString("(no players)\n")
	}
	b.WriteString("```")
	e.Fields = append(e.Fields,
		&discordgo.MessageEmbedField{Name: "Top players", Value: b.String()},
		&discordgo.MessageEmbedField{Name: "MVP", Value: nonEmpty(v.MVP), Inline: true},
	)
	return e
}

// AwardsEmbed renders an endstats post.
func AwardsEmbed(v AwardsView) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title:  fmt.Sprintf("Awards: %s - Round %d", v.Map, v.Round),
		Color:  ColorGold,
		Footer: &discordgo.MessageEmbedFooter{Text: v.File},
	}
	for i, a := range v.Awards {
		if i == maxAwards {
			e.Description = fmt.Sprintf("%d more awards not shown", len(v.Awards)-maxAwards)
			break
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name: truncate(a.Title, 256), Value: truncate(nonEmpty(a.Player)+": "+a.Value, 1024), Inline: true,
		})
	}
	if len(v.Awards) == 0 {
		e.Description = "No awards this round."
	}
	return e
}

// StatusView is everything the failover-status command shows.
type StatusView struct {
	// Server names the game server; the title shows it when set.
	Server               string
	SmartEnabled         bool
	PollingOn            bool
	ConsecutiveSuccesses int
	ConsecutiveFailures  int
	LastWebhookSuccess   time.Time
	SuccessThreshold     int
	FailureThreshold     int
	HeartbeatTimeout     time.Duration
	HeartbeatMinPlayers  int
	TimeWebhook          time.Duration // total time with polling off
	TimePolling          time.Duration // total time with polling on
	Failovers            int
	Recoveries           int
	MeanTimeToRecover    time.Duration
	LastProbe            time.Time
	OutboxBacklog        int
	PlayersInVoice       int
	Now                  time.Time
}

// Mode names as shown to people.
const (
	ModeWebhook = "WEBHOOK primary"
	ModePolling = "SSH POLLING backup active"
)

// ModeName returns ModeWebhook or ModePolling.
func (s StatusView) ModeName() string {
	if s.PollingOn {
		return ModePolling
	}
	return ModeWebhook
}

// StatusFieldNames lists, in order, the fields StatusEmbed always renders.
var StatusFieldNames = []string{
	"Mode", "Consecutive successes", "Consecutive failures", "Polling enabled",
	"Last webhook success", "Thresholds", "Heartbeat timeout", "Time in webhook mode",
	"Time in polling mode", "Failovers", "Mean time to recover", "Last probe",
	"Outbox backlog", "Players in voice",
}

// StatusEmbed renders the failover-status answer: green while the webhook is
// primary, orange while SSH polling is active.
func StatusEmbed(s StatusView) *discordgo.MessageEmbed {
	color := ColorGreen
	if s.PollingOn {
		color = ColorOrange
	}
	mode := s.ModeName()
	if !s.SmartEnabled {
		mode += " (smart failover disabled: both paths always on)"
	}
	f := func(name, value string) *discordgo.MessageEmbedField {
		return &discordgo.MessageEmbedField{Name: name, Value: value, Inline: name != "Mode"}
	}
	title := "Failover status"
	if s.Server != "" {
		title += ": " + s.Server
	}
	return &discordgo.MessageEmbed{
		Title: title,
		Color: color,
		Fields: []*discordgo.MessageEmbedField{
			f("Mode", mode),
			f("Consecutive successes", fmt.Sprint(s.ConsecutiveSuccesses)),
			f("Consecutive failures", fmt.Sprint(s.ConsecutiveFailures)),
			f("Polling enabled", yesNo(s.PollingOn)),
			f("Last webhook success", ago(s.Now, s.LastWebhookSuccess)),
			f("Thresholds", fmt.Sprintf("success %d, failure %d", s.SuccessThreshold, s.FailureThreshold)),
			f("Heartbeat timeout", fmt.Sprintf("%s with >= %d in voice", s.HeartbeatTimeout, s.HeartbeatMinPlayers)),
			f("Time in webhook mode", s.TimeWebhook.Round(time.Second).String()),
			f("Time in polling mode", s.TimePolling.Round(time.Second).String()),
			f("Failovers", fmt.Sprintf("%d (recoveries %d)", s.Failovers, s.Recoveries)),
			f("Mean time to recover", mttr(s)),
			f("Last probe", ago(s.Now, s.LastProbe)),
			f("Outbox backlog", fmt.Sprint(s.OutboxBacklog)),
			f("Players in voice", fmt.Sprint(s.PlayersInVoice)),
		},
		Timestamp: s.Now.UTC().Format(time.RFC3339),
	}
}

// TransitionEmbed renders a failover transition for the admin channel.
func TransitionEmbed(pollingOn bool, reason string, at time.Time) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Timestamp: at.UTC().Format(time.RFC3339)}
	if pollingOn {
		e.Title = "Failover: SSH polling backup active"
		e.Color = ColorOrange
	} else {
		e.Title = "Recovered: webhook primary, polling off"
		e.Color = ColorGreen
	}
	e.Description = "reason: " + nonEmpty(reason)
	return e
}

// AlertEmbed renders an alert (prolonged polling, quarantined file, permanent
// publish failure) for the admin channel.
func AlertEmbed(title, text string, at time.Time) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Title: title, Description: text, Color: ColorRed}
	if !at.IsZero() {
		e.Timestamp = at.UTC().Format(time.RFC3339)
	}
	return e
}

// EmbedText renders an embed as plain text, for the demo console and logs.
func EmbedText(e *discordgo.MessageEmbed) string {
	var b strings.Builder
	b.WriteString("== " + e.Title + " ==\n")
	if e.Description != "" {
		b.WriteString(e.Description + "\n")
	}
	for _, f := range e.Fields {
		v := strings.TrimSuffix(strings.TrimPrefix(f.Value, "```\n"), "```")
		if strings.Contains(v, "\n") {
			b.WriteString(f.Name + ":\n" + v)
			if !strings.HasSuffix(v, "\n") {
				b.WriteString("\n")
			}
			continue
		}
		b.WriteString(f.Name + ": " + v + "\n")
	}
	if e.Footer != nil && e.Footer.Text != "" {
		b.WriteString("-- " + e.Footer.Text + "\n")
	}
	return b.String()
}

func mttr(s StatusView) string {
	if s.Recoveries == 0 {
		return "n/a"
	}
	return s.MeanTimeToRecover.Round(time.Second).String()
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%s ago (%s)", d, t.UTC().Format("2006-01-02 15:04:05 UTC"))
}

func clock(d time.Duration) string {
	if d <= 0 {
		return "unknown"
	}
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
