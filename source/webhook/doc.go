// Package webhook turns Discord messages into stats-file events: the push
// path of roundfeed, bot side. The sender side, used by the game-server
// notifier, is the subpackage send (which does not import discordgo).
//
// A Trigger reads *discordgo.MessageCreate values and answers with a
// Decision. It accepts two formats (see spec/webhook-protocol.md):
//
//   - the file-name message of examples/notifier: "📊 `<name>.txt`". The name
//     is the first backticked token of the content that ends in ".txt";
//     embeds are decoration and never the source of a name. Every name passes
//     parser.ValidateName before anything else sees it; a refused name is
//     counted and logged with the validator's fixed reason, never with the
//     raw bytes.
//   - the STATS_READY message of the in-game Lua webhook, which carries round
//     metadata in embeds[0] but no file name. Handle returns it as a
//     ReadyTrigger; Resolve finds the exact stats file by listing the folder.
//
// Checks run in the protocol's order, the first failure ending it: own
// message, control channel, webhook ID in the whitelist, author name (when
// configured), not edited, message ID not seen before, format, name
// validation, per-webhook rate limit. Messages from normal users are ignored
// even when their text is a perfect trigger: a user cannot set WebhookID.
//
// # Wiring into a discordgo bot
//
// Route only MessageCreate to Handle. Do not route MessageUpdate: an edit is
// not a new file, and its content is whatever the editor wrote. Messages
// with an edited timestamp (seen in history) are refused for the same reason.
//
//	trig, err := webhook.NewTrigger(cfg, nil, logger)
//	session.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
//		d := trig.Handle(m)
//		// d.Events: push them; d.RateLimited / d.LimitedReady: report a
//		// failover Failure "rate_limited" and leave the file to polling;
//		// d.Ready: go trig.Resolve(ctx, *d.Ready, lister, zone).
//	})
//	session.AddHandler(func(s *discordgo.Session, r *discordgo.Ready) {
//		// A Ready after the first means the gateway could not resume:
//		// messages may have been missed.
//		ds, err := trig.CatchUp(ctx, s)
//	})
//
// discordgo calls handlers on separate goroutines; a Trigger is safe for
// concurrent use. Handle does no I/O and never blocks on the network.
//
// # Rate limit
//
// At most Config.FileRate file-name triggers per Config.FileRateWindow and
// Config.ReadyRate STATS_READY triggers per Config.ReadyRateWindow are
// accepted from each webhook ID. A trigger over the limit is not dropped: it
// is returned in Decision.RateLimited (or Decision.LimitedReady) so that the
// caller reports a push Failure ("rate_limited") to the failover machine,
// which turns polling on, and polling fetches the file.
//
// # Configuration
//
// ConfigFromEnv reads these variables (defaults from DefaultConfig):
//
//	| variable                  | default | meaning                                                        |
//	|---------------------------|---------|----------------------------------------------------------------|
//	| CONTROL_CHANNEL_ID        | (none)  | the channel the notifier's webhook posts in; required          |
//	| WEBHOOK_TRIGGER_WHITELIST | (empty) | comma-separated webhook IDs allowed to trigger; empty = none   |
//	| WEBHOOK_TRIGGER_USERNAME  | (empty) | when set, the webhook's author name must equal it              |
//
// Rate limits (5 file names per 60 s, 4 STATS_READY per 30 s), the memory of
// message IDs (10 min, 10000 IDs) and the STATS_READY resolution (4 listings
// 5 s apart, nearest file within 2 min, playtime under 30 s is a ghost) are
// Config fields with those defaults.
package webhook
