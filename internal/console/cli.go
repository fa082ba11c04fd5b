package console

// "Copy as CLI command": the `samsa` command that does what a console
// action does, for the user to paste into a terminal.

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// defaultBrokers is where the CLI connects without --brokers; commands for
// another cluster name it.
const defaultBrokers = "127.0.0.1:9092"

// cliCommand is `samsa ARGS...`, each argument shell-quoted, with
// --brokers when the cluster is not the CLI's default.
func (c *cluster) cliCommand(args ...string) string {
	if b := strings.Join(c.brokers, ","); b != defaultBrokers {
		args = append(args, "--brokers", b)
	}
	parts := []string{"samsa"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/=@+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cliCreateTopic is `samsa topic create`.
func (c *cluster) cliCreateTopic(req createTopicRequest) string {
	args := []string{"topic", "create", req.Name}
	if req.Partitions > 0 {
		args = append(args, "--partitions", fmt.Sprint(req.Partitions))
	}
	if req.RF > 0 {
		args = append(args, "--replication-factor", fmt.Sprint(req.RF))
	}
	for _, k := range sortedKeys(req.Configs) {
		args = append(args, "--config", k+"="+req.Configs[k])
	}
	return c.cliCommand(args...)
}

// cliProduce is `echo JSON | samsa produce TOPIC --format json`: the JSON
// form carries key, value and headers exactly.
func (c *cluster) cliProduce(topic string, req produceRequest) string {
	rec := struct {
		Key     *string           `json:"key,omitempty"`
		Value   string            `json:"value"`
		Headers map[string]string `json:"headers,omitempty"`
	}{Value: req.Value}
	if req.Key != "" {
		rec.Key = &req.Key
	}
	if len(req.Headers) > 0 {
		rec.Headers = map[string]string{}
		for _, h := range req.Headers {
			rec.Headers[h.Key] = h.Value
		}
	}
	line, _ := json.Marshal(rec) // strings and maps of strings always marshal
	args := []string{"produce", topic, "--format", "json"}
	if req.Partition != nil {
		args = append(args, "--partition", fmt.Sprint(*req.Partition))
	}
	return "echo " + shellQuote(string(line)) + " | " + c.cliCommand(args...)
}

// cliReset is `samsa group seek GROUP --to ... --execute`.
func (c *cluster) cliReset(group string, req resetRequest, at time.Time) string {
	to := req.To
	if to == "timestamp" {
		to = at.Format(time.RFC3339Nano)
	}
	args := []string{"group", "seek", group, "--to", to}
	if req.Topic != "" {
		args = append(args, "--topic", req.Topic)
	}
	return c.cliCommand(append(args, "--execute")...)
}
