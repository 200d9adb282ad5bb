-- roundfeed store, version 1.
--
-- Times are BIGINT Unix milliseconds (0 = unset). File times are the naive
-- server-local time of the file name carried as if UTC, like parser.FileName.
-- Booleans are INTEGER 0/1. The statements avoid SQLite-only syntax except
-- "INTEGER PRIMARY KEY" (the rowid alias; PostgreSQL would use an identity
-- column) so that a PostgreSQL port changes only those lines.

-- The tracker's table (tracker.Schema; keep the two identical).
CREATE TABLE processed_files (
	server         TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	via            TEXT    NOT NULL DEFAULT '',
	attempts       INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT    NOT NULL DEFAULT '',
	sha256         TEXT    NOT NULL DEFAULT '',
	size           BIGINT  NOT NULL DEFAULT 0,
	token          TEXT    NOT NULL DEFAULT '',
	lease_until_ms BIGINT  NOT NULL DEFAULT 0,
	retry_at_ms    BIGINT  NOT NULL DEFAULT 0,
	first_seen_ms  BIGINT  NOT NULL,
	updated_ms     BIGINT  NOT NULL,
	done_ms        BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (server, name)
);
CREATE INDEX processed_files_state ON processed_files (state, updated_ms);

-- One row per stats file.
CREATE TABLE rounds (
	id                     INTEGER PRIMARY KEY,
	server                 TEXT    NOT NULL,
	file_name              TEXT    NOT NULL,
	file_time_ms           BIGINT  NOT NULL,
	map                    TEXT    NOT NULL,
	round_number           INTEGER NOT NULL,
	sha256                 TEXT    NOT NULL,
	size                   BIGINT  NOT NULL,
	parse_mode             TEXT    NOT NULL,
	via                    TEXT    NOT NULL,
	imported_ms            BIGINT  NOT NULL,
	-- header (stats-format.md section 4)
	field_count            INTEGER NOT NULL,
	server_name            TEXT    NOT NULL,
	header_map             TEXT    NOT NULL,
	config                 TEXT    NOT NULL,
	round_raw              TEXT    NOT NULL,
	header_round           INTEGER NOT NULL,
	defender_raw           TEXT    NOT NULL,
	winner_raw             TEXT    NOT NULL,
	defender_team          INTEGER NOT NULL,
	winner_team            INTEGER NOT NULL,
	defender_normalized    INTEGER NOT NULL,
	winner_normalized      INTEGER NOT NULL,
	side_reasons           TEXT    NOT NULL, -- comma-separated
	timelimit              TEXT    NOT NULL,
	actual_time            TEXT    NOT NULL,
	playtime_raw           TEXT,             -- NULL: 8-field header
	playtime_seconds       DOUBLE PRECISION, -- NULL: unknown
	round_time_seconds     INTEGER NOT NULL,
	aborted                INTEGER NOT NULL,
	skipped_lines          TEXT    NOT NULL, -- comma-separated line numbers
	-- round-level values (section 9.5) of the raw file
	score_confidence       TEXT    NOT NULL,
	round_outcome          TEXT    NOT NULL,
	stopwatch_state        TEXT    NOT NULL,
	time_to_beat_seconds   INTEGER,
	next_timelimit_minutes INTEGER,
	mvp                    TEXT,
	total_players          INTEGER NOT NULL,
	bot_player_count       INTEGER NOT NULL,
	human_player_count     INTEGER NOT NULL,
	is_bot_round           INTEGER NOT NULL,
	-- round 2 (section 7.1): '' for a round-1 file
	r2_status              TEXT    NOT NULL DEFAULT '',
	r1_round_id            INTEGER REFERENCES rounds (id),
	r1_file                TEXT    NOT NULL DEFAULT '',
	pair_confidence        TEXT    NOT NULL DEFAULT '',
	r2_warning             TEXT    NOT NULL DEFAULT '',
	r2_error               TEXT    NOT NULL DEFAULT '',
	r2_mvp                 TEXT,
	UNIQUE (server, file_name)
);
CREATE INDEX rounds_pairing ON rounds (server, map, round_number, file_time_ms);
CREATE INDEX rounds_r1 ON rounds (r1_round_id);

-- One row per player per round: kind 'raw' (the file's line) and, for a
-- paired round 2, kind 'diff' (the R2-only differential).
CREATE TABLE player_stats (
	id                  INTEGER PRIMARY KEY,
	round_id            INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
	kind                TEXT    NOT NULL, -- 'raw' or 'diff'
	position            INTEGER NOT NULL, -- order in the file (raw) or in the differential
	line_no             INTEGER NOT NULL, -- 0 for diff rows
	guid_raw            TEXT    NOT NULL,
	guid                TEXT    NOT NULL,
	name_raw            TEXT    NOT NULL,
	name                TEXT    NOT NULL,
	is_bot              INTEGER NOT NULL,
	rounds_played       INTEGER NOT NULL,
	team                INTEGER NOT NULL,
	weapon_mask         BIGINT  NOT NULL,
	diff_source         TEXT    NOT NULL DEFAULT '', -- diff rows: differential, reset_fallback, r2_only
	reset_fields        TEXT    NOT NULL DEFAULT '', -- comma-separated
	ratios_unknown      INTEGER NOT NULL DEFAULT 0,
	kills               INTEGER NOT NULL,
	deaths              INTEGER NOT NULL,
	headshots           INTEGER NOT NULL,
	shots_total         INTEGER NOT NULL,
	hits_total          INTEGER NOT NULL,
	accuracy            DOUBLE PRECISION,
	kd_ratio            DOUBLE PRECISION,
	efficiency          DOUBLE PRECISION,
	damage_given        INTEGER NOT NULL,
	damage_received     INTEGER NOT NULL,
	time_played_seconds INTEGER NOT NULL,
	time_played_minutes DOUBLE PRECISION,
	time_display        TEXT    NOT NULL,
	dpm                 DOUBLE PRECISION,
	has_extended        INTEGER NOT NULL,
	-- T0-T37 (section 5.1), 0 when has_extended = 0
	x_damage_given          INTEGER NOT NULL,
	x_damage_received       INTEGER NOT NULL,
	x_team_damage_given     INTEGER NOT NULL,
	x_team_damage_received  INTEGER NOT NULL,
	x_gibs                  INTEGER NOT NULL,
	x_self_kills            INTEGER NOT NULL,
	x_team_kills            INTEGER NOT NULL,
	x_team_gibs             INTEGER NOT NULL,
	x_time_played_percent   DOUBLE PRECISION,
	x_xp                    INTEGER NOT NULL,
	x_killing_spree         INTEGER NOT NULL,
	x_death_spree           INTEGER NOT NULL,
	x_kill_assists          INTEGER NOT NULL,
	x_kill_steals           INTEGER NOT NULL,
	x_headshot_kills        INTEGER NOT NULL,
	x_objectives_stolen     INTEGER NOT NULL,
	x_objectives_returned   INTEGER NOT NULL,
	x_dynamites_planted     INTEGER NOT NULL,
	x_dynamites_defused     INTEGER NOT NULL,
	x_times_revived         INTEGER NOT NULL,
	x_bullets_fired         INTEGER NOT NULL,
	x_dpm                   DOUBLE PRECISION, -- also NULL for diff rows with ratios_unknown
	x_time_played_minutes   DOUBLE PRECISION,
	x_tank_meatshield       DOUBLE PRECISION, -- also NULL for diff rows with ratios_unknown
	x_time_dead_ratio       DOUBLE PRECISION,
	x_time_dead_minutes     DOUBLE PRECISION,
	x_kd_ratio              DOUBLE PRECISION,
	x_useful_kills          INTEGER NOT NULL,
	x_denied_playtime       INTEGER NOT NULL,
	x_multikill_2x          INTEGER NOT NULL,
	x_multikill_3x          INTEGER NOT NULL,
	x_multikill_4x          INTEGER NOT NULL,
	x_multikill_5x          INTEGER NOT NULL,
	x_multikill_6x          INTEGER NOT NULL,
	x_useless_kills         INTEGER NOT NULL,
	x_full_selfkills        INTEGER NOT NULL,
	x_repairs_constructions INTEGER NOT NULL,
	x_revives_given         INTEGER NOT NULL,
	UNIQUE (round_id, kind, position)
);
CREATE INDEX player_stats_guid ON player_stats (guid);

CREATE TABLE weapon_stats (
	round_id        INTEGER NOT NULL,
	player_kind     TEXT    NOT NULL,
	player_position INTEGER NOT NULL,
	weapon_id       INTEGER NOT NULL,
	weapon          TEXT    NOT NULL,
	hits            INTEGER NOT NULL,
	shots           INTEGER NOT NULL,
	kills           INTEGER NOT NULL,
	deaths          INTEGER NOT NULL,
	headshots       INTEGER NOT NULL,
	accuracy        DOUBLE PRECISION,
	PRIMARY KEY (round_id, player_kind, player_position, weapon_id),
	FOREIGN KEY (round_id, player_kind, player_position)
		REFERENCES player_stats (round_id, kind, position) ON DELETE CASCADE
);

CREATE TABLE endstats (
	id                 INTEGER PRIMARY KEY,
	server             TEXT    NOT NULL,
	file_name          TEXT    NOT NULL,
	file_time_ms       BIGINT  NOT NULL,
	map                TEXT    NOT NULL,
	round_number       INTEGER NOT NULL,
	match_id           TEXT    NOT NULL,
	sha256             TEXT    NOT NULL,
	size               BIGINT  NOT NULL,
	parse_mode         TEXT    NOT NULL,
	via                TEXT    NOT NULL,
	imported_ms        BIGINT  NOT NULL,
	round_id           INTEGER REFERENCES rounds (id),
	link_delta_seconds INTEGER, -- stats minus endstats, NULL when unlinked
	UNIQUE (server, file_name)
);
CREATE INDEX endstats_round ON endstats (round_id);

CREATE TABLE endstats_awards (
	endstats_id INTEGER NOT NULL REFERENCES endstats (id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	line_no     INTEGER NOT NULL,
	title       TEXT    NOT NULL,
	player      TEXT    NOT NULL,
	value       TEXT    NOT NULL,
	numeric     DOUBLE PRECISION, -- NULL: no number
	PRIMARY KEY (endstats_id, position)
);

CREATE TABLE endstats_vs (
	endstats_id  INTEGER NOT NULL REFERENCES endstats (id) ON DELETE CASCADE,
	position     INTEGER NOT NULL,
	line_no      INTEGER NOT NULL,
	subject      TEXT, -- NULL: before any VS_HEADER
	subject_guid TEXT, -- NULL: absent
	player       TEXT    NOT NULL,
	kills        INTEGER NOT NULL,
	deaths       INTEGER NOT NULL,
	PRIMARY KEY (endstats_id, position)
);

-- Posts to send. A row with a message_id is sent and never sent again.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	server          TEXT    NOT NULL,
	file_name       TEXT    NOT NULL,
	kind            TEXT    NOT NULL, -- 'round' or 'awards'
	nonce           TEXT    NOT NULL UNIQUE,
	payload         TEXT    NOT NULL, -- JSON of ingest.Post
	created_ms      BIGINT  NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt_ms BIGINT  NOT NULL DEFAULT 0,
	dead            INTEGER NOT NULL DEFAULT 0, -- 1: given up (too many or a permanent failure)
	sent_ms         BIGINT  NOT NULL DEFAULT 0,
	message_id      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (message_id, dead, next_attempt_ms);

-- Failover machine history: transitions and alerts.
CREATE TABLE failover_events (
	id        INTEGER PRIMARY KEY,
	server    TEXT   NOT NULL,
	at_ms     BIGINT NOT NULL,
	kind      TEXT   NOT NULL, -- 'transition' or 'alert'
	from_mode TEXT   NOT NULL DEFAULT '',
	to_mode   TEXT   NOT NULL DEFAULT '',
	alert     TEXT   NOT NULL DEFAULT '',
	reason    TEXT   NOT NULL
);
CREATE INDEX failover_events_at ON failover_events (at_ms);
