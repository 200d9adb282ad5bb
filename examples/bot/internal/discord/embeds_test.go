package discord

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAwardsEmbed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		awards int
		fields int
		desc   string
	}{
		{"none", 0, 0, "No awards this round."},
		{"some", 3, 3, ""},
		{"over the field limit", 30, maxAwards, "6 more awards not shown"},
	}
	for _, tc := range tests {
		v := AwardsView{Map: "supply", Round: 2, File: "x-endstats.txt"}
		for i := range tc.awards {
			v.Awards = append(v.Awards, Award{Title: fmt.Sprintf("Most kills %d", i), Player: "vid", Value: "12"})
		}
		e := AwardsEmbed(v)
		if len(e.Fields) != tc.fields || e.Description != tc.desc || e.Title != "Awards: supply - Round 2" {
			t.Errorf("%s: %d fields, desc %q, title %q", tc.name, len(e.Fields), e.Description, e.Title)
		}
	}
}

func TestEmbedText(t *testing.T) {
	t.Parallel()
	e := RoundEmbed(RoundView{Map: "supply", Round: 2, Winner: "Allies", Outcome: "Fullhold", Duration: 10 * time.Minute,
		Differential: true, MVP: "Hydra", File: "2026-01-18-225332-supply-round-2.txt",
		Players: []PlayerLine{{Name: "Hydra", Kills: 20, Deaths: 4, DPM: 400, Accuracy: 33.3}}})
	txt := EmbedText(e)
	for _, want := range []string{"== supply - Round 2 ==", "Winner: Allies (Fullhold)", "Duration: 10:00",
		"Hydra             20   4  400.0 33.3%", "MVP: Hydra", "-- 2026-01-18-225332-supply-round-2.txt", "Round 2 only"} {
		if !strings.Contains(txt, want) {
			t.Errorf("missing %q in\n%s", want, txt)
		}
	}
}

func TestTransitionEmbed(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)
	on := TransitionEmbed(true, "missed", at)
	off := TransitionEmbed(false, "push healthy", at)
	if on.Color != ColorOrange || off.Color != ColorGreen || !strings.Contains(on.Description, "missed") {
		t.Errorf("on %+v off %+v", on, off)
	}
}
