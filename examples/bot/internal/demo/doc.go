// Package demo runs the whole roundfeed system on one machine with nothing
// but Go: an in-process SSH+SFTP server on loopback with a generated, pinned
// host key; a simulated game server writing real-format files at an
// accelerated pace; the notifier posting webhooks to an in-process stand-in
// for Discord, which turns them into gateway messages for the webhook
// trigger; the real pipeline, failover machine, poller, SQLite store and
// outbox publisher; and a fault script (the notifier dies and comes back, a
// corrupt file). Time runs on a ScaledClock so the 15-minute heartbeat and
// 60-second probes play out within minutes.
package demo
