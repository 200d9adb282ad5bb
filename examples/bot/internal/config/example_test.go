package config_test

import (
	"fmt"

	"github.com/roundfeed/roundfeed/examples/bot/internal/config"
)

// ExampleFromFile reads a roundfeed.toml with two game servers; the token
// comes from the environment (here a map), and Validate names each problem
// by its key path.
func ExampleFromFile() {
	file := `
[discord]
guild_id = "900"
control_channel_id = "200"
stats_channel_id = "300"

[defaults.schedule]
poll_dead_hours = "off"

[[servers]]
name = "main"
[servers.webhook]
whitelist = ["601"]
[servers.ssh]
host = "game1.example.org"
user = "et"
key_path = "/etc/roundfeed/id_ed25519"
known_hosts = "/etc/roundfeed/known_hosts"
stats_dir = "/home/et/.etlegacy/legacy/stats"

[[servers]]
name = "cup"
[servers.webhook]
whitelist = ["602"]
[servers.ssh]
user = "etcup"
`
	env := map[string]string{config.EnvToken: "token-from-the-environment"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := config.FromFile("roundfeed.toml", []byte(file), lookup)
	if err != nil {
		panic(err)
	}
	for _, s := range c.Servers {
		fmt.Printf("%s %v %q\n", s.Name, s.Webhook.Whitelist, s.SSH.Host)
	}
	fmt.Println(c.Validate(config.NeedAll))
	// Output:
	// main [601] "game1.example.org"
	// cup [602] ""
	// roundfeed.toml: servers[1].ssh.host: required
	// roundfeed.toml: servers[1].ssh.stats_dir: required
	// roundfeed.toml: servers[1].ssh.key_path: required (or auth_sock for an ssh-agent)
	// roundfeed.toml: servers[1].ssh.known_hosts: required: host key verification is mandatory (or host_key; insecure_ignore_host_key = true skips it, insecurely)
}
