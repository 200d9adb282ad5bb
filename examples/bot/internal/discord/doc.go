// Package discord holds the reference bot's Discord side: the publisher that
// sends outbox rows as messages with an idempotency nonce, the embeds for
// rounds, awards, failover status and alerts, the !failover-status and
// /failover-status commands with their administrator check, and the count of
// players in voice. Everything goes through a *discordgo.Session, so tests
// point the session's HTTP client at an httptest server.
package discord
