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
	// servers, when not empty, makes the scenario a run of several game
	// servers on one bot: each is an independent world (its own folder,
	// notifier, SSH connection, Machine and schedule) playing the named
	// single-server scenario, with nights drawn from its own seed.
	servers []ServerPlan
}

// ServerPlan is one game server of a multi-server scenario: its name and
// the single-server scenario it plays.
type ServerPlan struct {
	Name     string
	Scenario string
}

// Servers returns the game servers of a multi-server scenario (nil for a
// single-server one).
func (s Scenario) Servers() []ServerPlan { return append([]ServerPlan(nil), s.servers...) }

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
	// ScenarioMultiServerCrash runs three game servers on one bot; only the
	// first one's notifier dies, so only its Machine may fail over.
	ScenarioMultiServerCrash = "multi-server-crash"
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
		{Name: ScenarioMultiServerCrash, Doc: "three game servers on one bot (alpha, bravo, charlie); alpha's notifier dies mid-session, the others stay healthy",
			servers: []ServerPlan{{"alpha", ScenarioNotifierCrash}, {"bravo", ScenarioHealthy}, {"charlie", ScenarioHealthy}}},
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
