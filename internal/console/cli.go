package console

// "Copy as CLI command": the commands that do what a console action does,
// for the user to paste into a terminal. Each action has two forms: the
// `samsa` command (cli* builders) and the same with Apache Kafka's tools,
// kafka-topics.sh, kafka-console-producer.sh, kafka-consumer-groups.sh and
// kafka-configs.sh (kafka* builders), which work against Samsa as against
// Kafka. A kafka* builder returns "" when Kafka's tool cannot express the
// action exactly (a record for an explicit partition, a separator inside
// a key ...): the console then shows only the samsa command.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// defaultBrokers is where the CLI connects without --brokers; commands for
// another cluster name it.
const defaultBrokers = "127.0.0.1:9092"

// cliCommand is `samsa CMD... NAME FLAGS...`, each argument shell-quoted,
// with --brokers when the cluster is not the CLI's default. A name that
// starts with '-' (a legal topic or group name) would read as a flag: it
// then comes last, after "--".
func (c *cluster) cliCommand(cmd []string, name string, flags ...string) string {
	if b := strings.Join(c.brokers, ","); b != defaultBrokers {
		flags = append(flags, "--brokers", b)
	}
	args := append([]string(nil), cmd...)
	if strings.HasPrefix(name, "-") {
		args = append(append(append(args, flags...), "--"), name)
	} else {
		args = append(append(args, name), flags...)
	}
	return shellJoin("samsa", args...)
}

// kafkaCommand is `TOOL --bootstrap-server B ARGS...`, each argument
// shell-quoted. Kafka's tools have no default cluster, so the bootstrap
// addresses are always given.
func (c *cluster) kafkaCommand(tool string, args ...string) string {
	return shellJoin(tool, append([]string{"--bootstrap-server", c.bootstrap()}, args...)...)
}

// shellJoin is name followed by the shell-quoted args.
func shellJoin(name string, args ...string) string {
	parts := []string{name}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	// A leading '=' is expanded by zsh (=cmd is the path of cmd).
	if s != "" && s[0] != '=' && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/=@+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printLine is a shell command that writes line and a newline: echo when
// every shell's echo prints it as it is, else printf, since the echo of
// dash and zsh expands backslash escapes and a leading "-" can be read as
// an option.
func printLine(line string) string {
	if strings.Contains(line, `\`) || strings.HasPrefix(line, "-") {
		return `printf '%s\n' ` + shellQuote(line)
	}
	return "echo " + shellQuote(line)
}

// exactTopic is a regular expression that matches only topic: the --topic
// of kafka-topics' --alter and --delete is a regular expression, and the
// "." of a name like post.office would also match post-office.
func exactTopic(topic string) string { return regexp.QuoteMeta(topic) }

// cliCreateTopic is `samsa topic create`.
func (c *cluster) cliCreateTopic(req createTopicRequest) string {
	var args []string
	if req.Partitions > 0 {
		args = append(args, "--partitions", fmt.Sprint(req.Partitions))
	}
	if req.RF > 0 {
		args = append(args, "--replication-factor", fmt.Sprint(req.RF))
	}
	for _, k := range sortedKeys(req.Configs) {
		args = append(args, "--config", k+"="+req.Configs[k])
	}
	return c.cliCommand([]string{"topic", "create"}, req.Name, args...)
}

// kafkaCreateTopic is `kafka-topics.sh --create`, or "" when a config
// cannot be given to its --config, which splits key=value at every "="
// and trims both sides (so no "=" or surrounding space in a value, and no
// empty value).
func (c *cluster) kafkaCreateTopic(req createTopicRequest) string {
	args := []string{"--create", "--topic", req.Name}
	if req.Partitions > 0 {
		args = append(args, "--partitions", fmt.Sprint(req.Partitions))
	}
	if req.RF > 0 {
		args = append(args, "--replication-factor", fmt.Sprint(req.RF))
	}
	for _, k := range sortedKeys(req.Configs) {
		v := req.Configs[k]
		if !plainConfigKey(k) || v == "" || strings.Contains(v, "=") || !argSafe(v) {
			return ""
		}
		args = append(args, "--config", k+"="+v)
	}
	return c.kafkaCommand("kafka-topics.sh", args...)
}

// kafkaDeleteTopic is `kafka-topics.sh --delete`.
func (c *cluster) kafkaDeleteTopic(topic string) string {
	return c.kafkaCommand("kafka-topics.sh", "--delete", "--topic", exactTopic(topic))
}

// kafkaPartitions is `kafka-topics.sh --alter --partitions`.
func (c *cluster) kafkaPartitions(topic string, count int) string {
	return c.kafkaCommand("kafka-topics.sh", "--alter", "--topic", exactTopic(topic), "--partitions", fmt.Sprint(count))
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
	args := []string{"--format", "json"}
	if req.Partition != nil {
		args = append(args, "--partition", fmt.Sprint(*req.Partition))
	}
	return printLine(string(line)) + " | " + c.cliCommand([]string{"produce"}, topic, args...)
}

// kafkaProduce is the record piped into kafka-console-producer.sh, one
// line with its reader properties: KEY:VALUE with parse.key and
// key.separator=:, or, with headers (Kafka 3.2+), the line
// h1:v1,h2:v2<TAB>KEY<TAB>VALUE with parse.headers and the default
// separators (headers.delimiter and key.separator a tab, headers.separator
// ",", headers.key.separator ":"), written by printf so the tabs show.
// It is "" when the line cannot carry the record: an explicit partition
// (the console producer has no such option), a line break anywhere, or a
// separator inside a key or header (the reader splits at the first one).
func (c *cluster) kafkaProduce(topic string, req produceRequest) string {
	if req.Partition != nil || !lineSafe(req.Key) || !lineSafe(req.Value) {
		return ""
	}
	args := []string{"--topic", topic}
	if req.Key != "" {
		args = append(args, "--property", "parse.key=true")
	}
	if len(req.Headers) == 0 {
		line := req.Value
		if req.Key != "" {
			if strings.Contains(req.Key, ":") {
				return ""
			}
			line = req.Key + ":" + req.Value
			args = append(args, "--property", "key.separator=:")
		}
		return printLine(line) + " | " + c.kafkaCommand("kafka-console-producer.sh", args...)
	}
	hs := make([]string, 0, len(req.Headers))
	for _, h := range req.Headers {
		if strings.ContainsAny(h.Key, "\t,:") || strings.ContainsAny(h.Value, "\t,") || !lineSafe(h.Key) || !lineSafe(h.Value) {
			return ""
		}
		hs = append(hs, h.Key+":"+h.Value)
	}
	format, fields := `%s\t%s\n`, []string{strings.Join(hs, ","), req.Value}
	if req.Key != "" {
		if strings.Contains(req.Key, "\t") {
			return ""
		}
		format, fields = `%s\t%s\t%s\n`, []string{fields[0], req.Key, req.Value}
	}
	args = append(args, "--property", "parse.headers=true")
	return shellJoin("printf", append([]string{format}, fields...)...) + " | " + c.kafkaCommand("kafka-console-producer.sh", args...)
}

// cliReset is `samsa group seek GROUP --to ... --execute`.
func (c *cluster) cliReset(group string, req resetRequest, at time.Time) string {
	to := req.To
	if to == "timestamp" {
		to = at.Format(time.RFC3339Nano)
	}
	args := []string{"--to", to}
	if req.Topic != "" {
		args = append(args, "--topic", req.Topic)
	}
	return c.cliCommand([]string{"group", "seek"}, group, append(args, "--execute")...)
}

// kafkaDateTime is the layout of kafka-consumer-groups' --to-datetime
// that Kafka (yyyy-MM-dd'T'HH:mm:ss.SSSXXX) and Samsa's tool both read:
// milliseconds and an explicit zone, here always UTC ("Z").
const kafkaDateTime = "2006-01-02T15:04:05.000Z07:00"

// kafkaReset is `kafka-consumer-groups.sh --reset-offsets ... --execute`;
// without a topic it resets every topic the group committed offsets for
// (--all-topics), as the console does.
func (c *cluster) kafkaReset(group string, req resetRequest, at time.Time) string {
	args := []string{"--group", group, "--reset-offsets"}
	switch req.To {
	case "earliest":
		args = append(args, "--to-earliest")
	case "latest":
		args = append(args, "--to-latest")
	case "timestamp":
		args = append(args, "--to-datetime", at.UTC().Format(kafkaDateTime))
	default:
		return ""
	}
	if req.Topic != "" {
		args = append(args, "--topic", req.Topic)
	} else {
		args = append(args, "--all-topics")
	}
	return c.kafkaCommand("kafka-consumer-groups.sh", append(args, "--execute")...)
}

// kafkaDeleteGroup is `kafka-consumer-groups.sh --delete`.
func (c *cluster) kafkaDeleteGroup(group string) string {
	return c.kafkaCommand("kafka-consumer-groups.sh", "--delete", "--group", group)
}

// cliAlterConfigs is `samsa topic alter TOPIC --config k=v --delete-config k`.
func (c *cluster) cliAlterConfigs(topic string, req configsRequest) string {
	var args []string
	for _, k := range sortedKeys(req.Set) {
		args = append(args, "--config", k+"="+req.Set[k])
	}
	for _, k := range req.Delete {
		args = append(args, "--delete-config", k)
	}
	return c.cliCommand([]string{"topic", "alter"}, topic, args...)
}

// kafkaAlterConfigs is `kafka-configs.sh --alter --add-config k=v,k2=v2
// --delete-config k3,k4`. --add-config splits its list at "," and each
// pair at "=" except inside [...], then drops every bracket and trims the
// value: a value with "," or "=" is wrapped in brackets, and one with a
// bracket of its own or surrounding space cannot be given ("").
func (c *cluster) kafkaAlterConfigs(topic string, req configsRequest) string {
	args := []string{"--entity-type", "topics", "--entity-name", topic, "--alter"}
	if len(req.Set) > 0 {
		pairs := make([]string, 0, len(req.Set))
		for _, k := range sortedKeys(req.Set) {
			v := req.Set[k]
			if !plainConfigKey(k) || strings.ContainsAny(v, "[]") || !argSafe(v) {
				return ""
			}
			if strings.ContainsAny(v, ",=") {
				v = "[" + v + "]"
			}
			pairs = append(pairs, k+"="+v)
		}
		args = append(args, "--add-config", strings.Join(pairs, ","))
	}
	if len(req.Delete) > 0 {
		for _, k := range req.Delete {
			if !plainConfigKey(k) {
				return ""
			}
		}
		args = append(args, "--delete-config", strings.Join(req.Delete, ","))
	}
	return c.kafkaCommand("kafka-configs.sh", args...)
}

// plainConfigKey says whether Kafka's tools read key back as it is: not
// empty, none of their separators, no surrounding space.
func plainConfigKey(k string) bool {
	return k != "" && !strings.ContainsAny(k, ",=[]") && argSafe(k)
}

// lineSafe says whether s fits in one line read by Kafka's tools: no line
// break (Java's readLine ends a line at \r too) and no NUL (no shell
// argument can hold one).
func lineSafe(s string) bool { return !strings.ContainsAny(s, "\r\n\x00") }

// argSafe is lineSafe without leading or trailing space, which Kafka's
// config parsers trim off keys and values.
func argSafe(s string) bool { return lineSafe(s) && strings.TrimSpace(s) == s }
