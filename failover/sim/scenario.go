package sim

// Scenario is a scripted fault (or none) that strikes every simulated night.
// Faults that strike "mid-session" do so at a seeded time between 21:00 and
// 23:30.
type Scenario struct {
	// Name is the scenario's name on the command line and in the table.
	Name string
	// Doc says what goes wrong, in one line.
	Doc string

	flapLoss float64
}

// Scenario names.
const (
	ScenarioHealthy       = "healthy"
	ScenarioNotifierCrash = "notifier-crash"
	ScenarioDiscordOutage = "discord-outage"
	ScenarioVPSReboot     = "vps-reboot"
	ScenarioCorruptFile   = "corrupt-file"
	ScenarioFlapping      = "flapping"
	ScenarioEndstatsFirst = "endstats-first"
	ScenarioSSHOutage     = "ssh-outage"
	ScenarioBotRestart    = "bot-restart"
	ScenarioDeadHours     = "dead-hours"
)

// Scenarios returns every scenario, in table order.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: ScenarioHealthy, Doc: "nothing goes wrong"},
		{Name: ScenarioNotifierCrash, Doc: "the notifier dies silently mid-session and is restarted at 18:00 the next day"},
		{Name: ScenarioDiscordOutage, Doc: "Discord loses every webhook message for 20 min mid-session"},
		{Name: ScenarioVPSReboot, Doc: "the game server is down 3 min (no SSH); the notifier is back 5 min after it; a round ends in that gap"},
		{Name: ScenarioCorruptFile, Doc: "push delivers a stats file that fails to parse (once a night)"},
		{Name: ScenarioFlapping, Doc: "Discord loses 30% of webhook messages at random, all run long", flapLoss: 0.30},
		{Name: ScenarioEndstatsFirst, Doc: "every endstats file is written 30 s before its stats file"},
		{Name: ScenarioSSHOutage, Doc: "SSH/SFTP refuses connections for 10 min mid-session while push is healthy"},
		{Name: ScenarioBotRestart, Doc: "the bot is down 60 s mid-session (messages meanwhile are lost, claims expire)"},
		{Name: ScenarioDeadHours, Doc: "a round is written at 03:00 and Discord loses its messages; the schedule polls nothing 02:00-11:00"},
	}
}

// ScenarioByName returns the scenario called name.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
