// Package send executes the Discord webhook of the roundfeed push path: the
// game-server side of spec/webhook-protocol.md section 1. It imports only the
// standard library and the parser, so the notifier that runs on the game
// server links neither discordgo nor SQLite.
//
// A Sender posts one file per message, "📊 `<name>`" for a stats file and
// "🏆 `<name>`" for an endstats file, with an embed for people and
// allowed_mentions {"parse": []}. It retries transport errors and non-2xx
// answers with exponential backoff, honours 429 with retry_after (JSON body)
// or Retry-After (header), and waits out a bucket Discord reports as empty
// (X-RateLimit-Remaining: 0) before the next post. A 4xx other than 429 is a
// configuration error (deleted webhook, wrong URL): it is returned at once as
// ErrRejected and the caller keeps the notification.
//
// The webhook URL is a credential: whoever holds it can post as the
// notifier. It never appears in a log line or an error string: *url.Error,
// which embeds the request URL, is unwrapped, every error text is scrubbed
// of the token, and Config logs as a redacted value.
package send
