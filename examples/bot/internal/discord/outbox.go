package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/roundfeed/roundfeed/ingest"
)

// PostEmbed renders an outbox payload: a round post (map, round, winner,
// duration, top players, MVP) or an awards post.
func PostEmbed(p ingest.Post) *discordgo.MessageEmbed {
	var e *discordgo.MessageEmbed
	switch p.Kind {
	case ingest.PostAwards:
		v := AwardsView{Server: p.Server, File: p.File, Map: p.Map, Round: p.Round}
		for _, a := range p.Awards {
			v.Awards = append(v.Awards, Award{Title: a.Title, Player: a.Player, Value: a.Value})
		}
		e = AwardsEmbed(v)
	default:
		v := RoundView{Server: p.Server, File: p.File, Map: p.Map, Round: p.Round, Winner: p.Winner, Outcome: p.Outcome,
			Duration: time.Duration(p.DurationSeconds) * time.Second, MVP: p.MVP, Differential: p.Differential}
		for _, pl := range p.Players {
			v.Players = append(v.Players, PlayerLine{Name: pl.Name, Kills: pl.Kills, Deaths: pl.Deaths, DPM: pl.DPM, Accuracy: pl.Accuracy})
		}
		e = RoundEmbed(v)
		if p.Orphan {
			e.Description = "Round 1 not found: figures are cumulative"
		}
	}
	if p.Title != "" {
		e.Title = p.Title
	}
	for _, f := range p.Fields {
		if len(e.Fields) < 25 {
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: nonEmpty(f.Name), Value: nonEmpty(f.Value), Inline: true})
		}
	}
	return e
}

// OutboxPublisher implements ingest.Publisher: it renders each post with
// PostEmbed and sends it to one channel with the outbox row's nonce.
type OutboxPublisher struct {
	Publisher *Publisher
	// ChannelID is where rounds and awards go (STATS_CHANNEL_ID).
	ChannelID string
	// ShowServer names the game server in each post's footer ("alpha:
	// file"), for a bot serving several.
	ShowServer bool
}

// Publish implements ingest.Publisher. A permanent Discord failure (403,
// 404, ...) is returned wrapping ingest.ErrPermanent so that the outbox stops
// retrying it; anything else is retried by the outbox.
func (o *OutboxPublisher) Publish(ctx context.Context, nonce string, p ingest.Post) (string, error) {
	e := PostEmbed(p)
	if o.ShowServer && p.Server != "" && e.Footer != nil {
		e.Footer.Text = p.Server + ": " + e.Footer.Text
	}
	id, err := o.Publisher.Send(ctx, Post{ChannelID: o.ChannelID, Nonce: nonce, Embeds: []*discordgo.MessageEmbed{e}})
	if errors.Is(err, ErrPermanent) {
		return "", fmt.Errorf("%w: %w", ingest.ErrPermanent, err)
	}
	return id, err
}
