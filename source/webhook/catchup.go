package webhook

import (
	"context"
	"fmt"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// History reads a channel's message history. *discordgo.Session satisfies
// it. ChannelMessages with an afterID returns up to limit (at most 100)
// messages with a higher ID, in any order; an error means nothing was read.
type History interface {
	ChannelMessages(channelID string, limit int, beforeID, afterID, aroundID string, options ...discordgo.RequestOption) ([]*discordgo.Message, error)
}

// historyPage is the most messages Discord returns per history request.
const historyPage = 100

// CatchUp reads the control channel's history after LastMessageID and runs
// every message through the same checks as Handle, oldest first. Call it
// when the gateway reconnected without resuming (discordgo delivers a new
// *discordgo.Ready rather than *discordgo.Resumed): messages sent while the
// bot was away were never delivered as MessageCreate.
//
// Messages already handled are refused as duplicates by the seen-set, so a
// CatchUp racing with live messages handles each once. It returns the
// decisions of every message read, in ID order, and the decisions read so far
// with an error when a history request fails (retrying CatchUp is safe). It
// reads at most Config.CatchUpMaxMessages messages; a longer gap is left to
// polling and logged. Before any message was seen there is no point to read
// from, and CatchUp returns nothing.
func (t *Trigger) CatchUp(ctx context.Context, hist History) ([]Decision, error) {
	after := t.LastMessageID()
	if after == "" {
		t.log.Info("webhook catch-up skipped: no message seen yet")
		return nil, nil
	}
	var out []Decision
	read := 0
	for read < t.cfg.CatchUpMaxMessages {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		limit := min(historyPage, t.cfg.CatchUpMaxMessages-read)
		msgs, err := hist.ChannelMessages(t.cfg.ControlChannelID, limit, "", after, "", discordgo.WithContext(ctx))
		if err != nil {
			return out, fmt.Errorf("webhook: catch up after message %s: %w", after, err)
		}
		got, before := len(msgs), after
		msgs = slices.DeleteFunc(slices.Clone(msgs), func(m *discordgo.Message) bool {
			// Only what the request asked for: this channel, after the cursor.
			return m == nil || !isSnowflake(m.ID) || compareIDs(m.ID, after) <= 0 ||
				(m.ChannelID != "" && m.ChannelID != t.cfg.ControlChannelID)
		})
		slices.SortFunc(msgs, func(a, b *discordgo.Message) int { return compareIDs(a.ID, b.ID) })
		for _, m := range msgs {
			if m.ChannelID == "" {
				c := *m // history may omit the channel it was asked for
				c.ChannelID = t.cfg.ControlChannelID
				m = &c
			}
			out = append(out, t.handle(m))
			after = m.ID
		}
		read += got
		if got < limit || after == before {
			t.log.Info("webhook catch-up done", "messages", read)
			return out, nil
		}
	}
	t.log.Warn("webhook catch-up stopped at its bound: older gap left to polling", "messages", read, "last_message_id", after)
	return out, nil
}
