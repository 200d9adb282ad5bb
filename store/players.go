package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/roundfeed/roundfeed/parser"
)

// Player row kinds.
const (
	kindRaw  = "raw"
	kindDiff = "diff"
)

const playerCols = `round_id, kind, position, line_no, guid_raw, guid, name_raw, name, is_bot, rounds_played, team, weapon_mask,
diff_source, reset_fields, ratios_unknown, kills, deaths, headshots, shots_total, hits_total, accuracy, kd_ratio, efficiency,
damage_given, damage_received, time_played_seconds, time_played_minutes, time_display, dpm, has_extended,
x_damage_given, x_damage_received, x_team_damage_given, x_team_damage_received, x_gibs, x_self_kills, x_team_kills, x_team_gibs,
x_time_played_percent, x_xp, x_killing_spree, x_death_spree, x_kill_assists, x_kill_steals, x_headshot_kills,
x_objectives_stolen, x_objectives_returned, x_dynamites_planted, x_dynamites_defused, x_times_revived, x_bullets_fired,
x_dpm, x_time_played_minutes, x_tank_meatshield, x_time_dead_ratio, x_time_dead_minutes, x_kd_ratio, x_useful_kills,
x_denied_playtime, x_multikill_2x, x_multikill_3x, x_multikill_4x, x_multikill_5x, x_multikill_6x, x_useless_kills,
x_full_selfkills, x_repairs_constructions, x_revives_given`

const weaponCols = `round_id, player_kind, player_position, weapon_id, weapon, hits, shots, kills, deaths, headshots, accuracy`

// playerRow is one player_stats row without its round_id and kind, plus
// its weapons.
type playerRow struct {
	vals    []any
	weapons []parser.Weapon
}

// extendedVals returns the 38 x_ columns; zeros when x is nil.
func extendedVals(x *parser.Extended, ratiosUnknown bool) []any {
	if x == nil {
		x = &parser.Extended{}
	}
	dpm, tank := fl(x.DPM), fl(x.TankMeatshield)
	if ratiosUnknown {
		dpm, tank = nil, nil
	}
	return []any{
		x.DamageGiven, x.DamageReceived, x.TeamDamageGiven, x.TeamDamageReceived, x.Gibs, x.SelfKills, x.TeamKills, x.TeamGibs,
		fl(x.TimePlayedPercent), x.XP, x.KillingSpree, x.DeathSpree, x.KillAssists, x.KillSteals, x.HeadshotKills,
		x.ObjectivesStolen, x.ObjectivesReturned, x.DynamitesPlanted, x.DynamitesDefused, x.TimesRevived, x.BulletsFired,
		dpm, fl(x.TimePlayedMinutes), tank, fl(x.TimeDeadRatio), fl(x.TimeDeadMinutes), fl(x.KDRatio), x.UsefulKills,
		x.DeniedPlaytime, x.Multikill2x, x.Multikill3x, x.Multikill4x, x.Multikill5x, x.Multikill6x, x.UselessKills,
		x.FullSelfkills, x.RepairsConstructions, x.RevivesGiven,
	}
}

func rawRow(pos int, p *parser.Player) playerRow {
	v := []any{
		pos, p.LineNo, p.GUIDRaw, p.GUID, p.NameRaw, p.Name, b2i(p.IsBot), p.Rounds, p.Team, p.WeaponMask,
		"", "", 0, p.Kills, p.Deaths, p.Headshots, p.ShotsTotal, p.HitsTotal, fl(p.Accuracy), fl(p.KDRatio), fl(p.Efficiency),
		p.DamageGiven, p.DamageReceived, p.TimePlayedSeconds, fl(p.TimePlayedMinutes), p.TimeDisplay, fl(p.DPM), b2i(p.Extended != nil),
	}
	return playerRow{vals: append(v, extendedVals(p.Extended, false)...), weapons: p.Weapons}
}

func diffRow(pos int, d *parser.DiffPlayer) playerRow {
	v := []any{
		pos, 0, "", d.GUID, d.NameRaw, d.Name, b2i(d.IsBot), d.Rounds, d.Team, 0,
		string(d.Source), strings.Join(d.ResetFields, ","), b2i(d.RatiosUnknown),
		d.Kills, d.Deaths, d.Headshots, d.ShotsTotal, d.HitsTotal, fl(d.Accuracy), fl(d.KDRatio), fl(d.Efficiency),
		d.DamageGiven, d.DamageReceived, d.TimePlayedSeconds, fl(d.TimePlayedMinutes), clockText(d.TimePlayedSeconds), fl(d.DPM),
		b2i(d.Extended != nil && !d.ExtendedOnlyDeadRatio),
	}
	x := d.Extended
	if x != nil && d.ExtendedOnlyDeadRatio {
		// Only time_dead_ratio is meaningful (the R2 line had no TAB section).
		x = &parser.Extended{TimeDeadRatio: x.TimeDeadRatio}
	}
	return playerRow{vals: append(v, extendedVals(x, d.RatiosUnknown)...), weapons: d.Weapons}
}

// clockText formats seconds as "M:SS" like the reader's time_display.
func clockText(sec int) string {
	sec = max(sec, 0)
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}

func (s *Store) insertPlayers(ctx context.Context, tx *sql.Tx, roundID int64, kind string, rows []playerRow) error {
	prow := make([][]any, len(rows))
	var wrow [][]any
	for i, r := range rows {
		prow[i] = append([]any{roundID, kind}, r.vals...)
		for _, w := range r.weapons {
			wrow = append(wrow, []any{roundID, kind, i, w.ID, w.Name, w.Hits, w.Shots, w.Kills, w.Deaths, w.Headshots, fl(w.Accuracy)})
		}
	}
	if err := s.insertMany(ctx, tx, "player_stats", playerCols, prow); err != nil {
		return err
	}
	return s.insertMany(ctx, tx, "weapon_stats", weaponCols, wrow)
}
