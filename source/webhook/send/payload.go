package send

import (
	"fmt"

	"github.com/roundfeed/roundfeed/parser"
)

// Message is the JSON body of a webhook execution. A fake Discord in a test
// or demo can decode a post with it.
type Message struct {
	// Username is the author name shown (and checked by the bot when
	// WEBHOOK_TRIGGER_USERNAME is set).
	Username string `json:"username"`
	// Content carries the trigger: an emoji and the file name in backticks,
	// or ROUNDFEED_HEARTBEAT.
	Content string `json:"content"`
	// Embeds are for people; the bot never reads them.
	Embeds []Embed `json:"embeds,omitempty"`
	// AllowedMentions is always {"parse": []}: a post pings nobody.
	AllowedMentions AllowedMentions `json:"allowed_mentions"`
}

// Embed is the decoration for people; the bot never reads a name from it.
type Embed struct {
	// Title is "Round Complete" or "Awards Ready".
	Title string `json:"title"`
	// Description is "**<map>** - Round <n>".
	Description string `json:"description"`
	// Footer shows the file size.
	Footer *EmbedFooter `json:"footer,omitempty"`
}

// EmbedFooter is an embed's footer.
type EmbedFooter struct {
	// Text is "<size> bytes".
	Text string `json:"text"`
}

// AllowedMentions stops a post from pinging anyone.
type AllowedMentions struct {
	// Parse is always empty (and encoded as []).
	Parse []string `json:"parse"`
}

// Notification announces one complete stats or endstats file.
type Notification struct {
	Name parser.FileName
	// Size is the file's size in bytes, shown in the embed footer.
	Size int64
}

// Content markers of the protocol.
const (
	StatsEmoji       = "📊"
	EndstatsEmoji    = "🏆"
	HeartbeatContent = "ROUNDFEED_HEARTBEAT"
)

// FileMessage returns the protocol's message for n.
func FileMessage(n Notification, username string) Message {
	emoji, title := StatsEmoji, "Round Complete"
	if n.Name.Kind == parser.KindEndstats {
		emoji, title = EndstatsEmoji, "Awards Ready"
	}
	return Message{
		Username: username,
		Content:  emoji + " `" + n.Name.Raw + "`",
		Embeds: []Embed{{
			Title:       title,
			Description: fmt.Sprintf("**%s** - Round %d", n.Name.Map, n.Name.Round),
			Footer:      &EmbedFooter{Text: fmt.Sprintf("%d bytes", n.Size)},
		}},
		AllowedMentions: AllowedMentions{Parse: []string{}},
	}
}

// HeartbeatMessage returns the heartbeat message.
func HeartbeatMessage(username string) Message {
	return Message{Username: username, Content: HeartbeatContent, AllowedMentions: AllowedMentions{Parse: []string{}}}
}
