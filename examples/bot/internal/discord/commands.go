package discord

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// StatusCommand is the slash command's name.
const StatusCommand = "failover-status"

// StatusAliases are the text commands that answer with the status embed.
var StatusAliases = []string{"!failover-status", "!failover", "!webhook-status"}

// RefusalText is the answer to a non-administrator.
const RefusalText = "This command is for server administrators."

// AdminFunc reports whether a guild member may use the admin commands.
// member may be partial (as in a MessageCreate); userID is always set.
type AdminFunc func(s *discordgo.Session, guildID, userID string, member *discordgo.Member) bool

// Commands answers the failover-status commands. Its handlers are meant for
// discordgo's AddHandler; they are safe for concurrent use.
type Commands struct {
	// GuildID restricts commands to one guild; empty accepts any.
	GuildID string
	// Status returns the current status of the named game server, or of
	// every server when server is empty (one view each, in configuration
	// order); it is called once per command. An unknown name is an error
	// whose text is shown to the admin (it must name the servers, not
	// secrets).
	Status func(ctx context.Context, server string) ([]StatusView, error)
	// IsAdmin decides who may run the commands; nil means AdminFromState.
	IsAdmin AdminFunc
	// Logger receives one line per command; nil discards.
	Logger *slog.Logger
}

func (c *Commands) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Commands) admin(s *discordgo.Session, guildID, userID string, m *discordgo.Member) bool {
	if c.IsAdmin != nil {
		return c.IsAdmin(s, guildID, userID, m)
	}
	return AdminFromState(s, guildID, userID, m)
}

// IsStatusCommand reports whether text is one of StatusAliases (case-insensitive,
// surrounding spaces ignored, extra words after it allowed).
func IsStatusCommand(text string) bool {
	ok, _ := ParseStatusCommand(text)
	return ok
}

// ParseStatusCommand reports whether text is one of StatusAliases and
// returns the word after it, the optional server name ("" for all
// servers).
func ParseStatusCommand(text string) (ok bool, server string) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return false, ""
	}
	for _, a := range StatusAliases {
		if strings.EqualFold(fields[0], a) {
			if len(fields) > 1 {
				server = fields[1]
			}
			return true, server
		}
	}
	return false, ""
}

// MaxStatusEmbeds is how many embeds one answer carries (Discord's limit).
const MaxStatusEmbeds = 10

// Reply returns the answer to a text command, or nil when m is not one
// (bots, webhooks, other guilds, other text).
func (c *Commands) Reply(ctx context.Context, s *discordgo.Session, m *discordgo.MessageCreate) *discordgo.MessageSend {
	if m == nil || m.Message == nil || m.Author == nil || m.Author.Bot || m.WebhookID != "" {
		return nil
	}
	isCmd, server := ParseStatusCommand(m.Content)
	if m.GuildID == "" || (c.GuildID != "" && m.GuildID != c.GuildID) || !isCmd {
		return nil
	}
	ref := m.Reference()
	if !c.admin(s, m.GuildID, m.Author.ID, m.Member) {
		c.log().Info("command refused", "command", "failover-status", "user", m.Author.ID, "via", "message")
		return &discordgo.MessageSend{Content: RefusalText, Reference: ref,
			AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}}
	}
	return &discordgo.MessageSend{Embeds: c.statusEmbeds(ctx, server), Reference: ref,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}}
}

// OnMessage is the MessageCreate handler: it answers text commands.
func (c *Commands) OnMessage(s *discordgo.Session, m *discordgo.MessageCreate) {
	reply := c.Reply(context.Background(), s, m)
	if reply == nil {
		return
	}
	if _, err := s.ChannelMessageSendComplex(m.ChannelID, reply); err != nil {
		c.log().Warn("command reply failed", "command", "failover-status", "err", classify(m.ChannelID, err))
	}
}

// InteractionReply returns the answer to a slash command, or nil when i is
// not /failover-status. Refusals are ephemeral.
func (c *Commands) InteractionReply(ctx context.Context, s *discordgo.Session, i *discordgo.InteractionCreate) *discordgo.InteractionResponse {
	if i == nil || i.Interaction == nil || i.Type != discordgo.InteractionApplicationCommand {
		return nil
	}
	if i.ApplicationCommandData().Name != StatusCommand {
		return nil
	}
	if i.GuildID == "" || (c.GuildID != "" && i.GuildID != c.GuildID) || i.Member == nil || i.Member.User == nil {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "This command works in the server only.", Flags: discordgo.MessageFlagsEphemeral}}
	}
	if !c.admin(s, i.GuildID, i.Member.User.ID, i.Member) {
		c.log().Info("command refused", "command", "failover-status", "user", i.Member.User.ID, "via", "slash")
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: RefusalText, Flags: discordgo.MessageFlagsEphemeral}}
	}
	server := ""
	for _, o := range i.ApplicationCommandData().Options {
		if o.Name == StatusServerOption && o.Type == discordgo.ApplicationCommandOptionString {
			server = o.StringValue()
		}
	}
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Embeds: c.statusEmbeds(ctx, server)}}
}

// OnInteraction is the InteractionCreate handler for /failover-status.
func (c *Commands) OnInteraction(s *discordgo.Session, i *discordgo.InteractionCreate) {
	resp := c.InteractionReply(context.Background(), s, i)
	if resp == nil {
		return
	}
	if err := s.InteractionRespond(i.Interaction, resp); err != nil {
		c.log().Warn("command reply failed", "command", "failover-status", "err", classify("interaction", err))
	}
}

// statusEmbeds renders the status of one server or of all (at most
// MaxStatusEmbeds; the last embed then says how many were left out).
func (c *Commands) statusEmbeds(ctx context.Context, server string) []*discordgo.MessageEmbed {
	if c.Status == nil {
		return []*discordgo.MessageEmbed{AlertEmbed("Failover status unavailable", "no status source", time.Time{})}
	}
	sts, err := c.Status(ctx, server)
	if err != nil {
		c.log().Warn("status failed", "server", server, "err", err)
		return []*discordgo.MessageEmbed{AlertEmbed("Failover status unavailable", err.Error(), time.Time{})}
	}
	if len(sts) == 0 {
		return []*discordgo.MessageEmbed{AlertEmbed("Failover status unavailable", "no game server configured", time.Time{})}
	}
	out := make([]*discordgo.MessageEmbed, 0, min(len(sts), MaxStatusEmbeds))
	for i, st := range sts {
		if i == MaxStatusEmbeds-1 && len(sts) > MaxStatusEmbeds {
			out = append(out, AlertEmbed("More servers", fmt.Sprintf("%d servers not shown: ask for one by name", len(sts)-i), st.Now))
			break
		}
		out = append(out, StatusEmbed(st))
	}
	return out
}

// AdminFromState is the default AdminFunc: the guild owner, or a member one
// of whose roles (or @everyone) grants Administrator. It uses the session's
// state cache (filled by the Guilds intent) and the member's permissions
// when Discord sent them (interactions do).
func AdminFromState(s *discordgo.Session, guildID, userID string, m *discordgo.Member) bool {
	if m != nil && m.Permissions&discordgo.PermissionAdministrator != 0 {
		return true
	}
	if s == nil || s.State == nil {
		return false
	}
	g, err := s.State.Guild(guildID)
	if err != nil {
		return false
	}
	if g.OwnerID != "" && g.OwnerID == userID {
		return true
	}
	roles := []string{}
	if m != nil {
		roles = m.Roles
	}
	if len(roles) == 0 {
		if sm, err := s.State.Member(guildID, userID); err == nil {
			roles = sm.Roles
		}
	}
	var perms int64
	for _, r := range g.Roles {
		if r.ID == guildID {
			perms |= r.Permissions
		}
		for _, id := range roles {
			if r.ID == id {
				perms |= r.Permissions
			}
		}
	}
	return perms&discordgo.PermissionAdministrator != 0
}

// StatusServerOption is the slash command's optional server-name option.
const StatusServerOption = "server"

// StatusSlashCommand is the definition registered for /failover-status,
// with an optional "server" option (all servers when left out).
func StatusSlashCommand() *discordgo.ApplicationCommand {
	perm := int64(discordgo.PermissionAdministrator)
	dm := false
	return &discordgo.ApplicationCommand{
		Name:                     StatusCommand,
		Description:              "Show the webhook/SSH failover status",
		DefaultMemberPermissions: &perm,
		DMPermission:             &dm,
		Options: []*discordgo.ApplicationCommandOption{{
			Type: discordgo.ApplicationCommandOptionString, Name: StatusServerOption,
			Description: "Game server name (default: all servers)", Required: false,
		}},
	}
}

// RegisterCommands makes sure the guild has exactly the wanted definition of
// each command: it lists the existing commands first and creates or edits
// only those that are missing or different, so a restart makes no API write
// when nothing changed. It returns how many writes it made.
func RegisterCommands(s *discordgo.Session, appID, guildID string, want ...*discordgo.ApplicationCommand) (int, error) {
	have, err := s.ApplicationCommands(appID, guildID)
	if err != nil {
		return 0, fmt.Errorf("discord: list commands: %w", classify("commands", err))
	}
	writes := 0
	for _, w := range want {
		var cur *discordgo.ApplicationCommand
		for _, h := range have {
			if h.Name == w.Name {
				cur = h
				break
			}
		}
		switch {
		case cur == nil:
			if _, err := s.ApplicationCommandCreate(appID, guildID, w); err != nil {
				return writes, fmt.Errorf("discord: create command %s: %w", w.Name, classify("commands", err))
			}
			writes++
		case !sameCommand(cur, w):
			if _, err := s.ApplicationCommandEdit(appID, guildID, cur.ID, w); err != nil {
				return writes, fmt.Errorf("discord: edit command %s: %w", w.Name, classify("commands", err))
			}
			writes++
		}
	}
	return writes, nil
}

func sameCommand(a, b *discordgo.ApplicationCommand) bool {
	perm := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	return a.Name == b.Name && a.Description == b.Description &&
		perm(a.DefaultMemberPermissions) == perm(b.DefaultMemberPermissions) &&
		len(a.Options) == len(b.Options) && (len(a.Options) == 0 || reflect.DeepEqual(a.Options, b.Options))
}

// PlayersInVoice counts members in the given voice channels of a guild from
// the session's state (filled by the GuildVoiceStates intent). Bots count
// too: the game bots do not join voice, and a music bot is rare enough.
func PlayersInVoice(state *discordgo.State, guildID string, channelIDs []string) int {
	if state == nil {
		return 0
	}
	g, err := state.Guild(guildID)
	if err != nil {
		return 0
	}
	state.RLock()
	defer state.RUnlock()
	n := 0
	for _, vs := range g.VoiceStates {
		for _, ch := range channelIDs {
			if vs.ChannelID == ch {
				n++
				break
			}
		}
	}
	return n
}
