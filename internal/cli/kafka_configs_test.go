package cli

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// configEntryRE is the layout of every config line ConfigCommand prints.
var configEntryRE = regexp.MustCompile(`^  [a-z.]+=\S* sensitive=(true|false) synonyms=\{([A-Z_]+:[a-z.]+=[^ ]*(, [A-Z_]+:[a-z.]+=[^ ]*)*)?\}$`)

// topicConfig returns one config of topic as the broker describes it.
func topicConfig(t *testing.T, adm *kadm.Client, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(samsatest.Context(t, 30*time.Second), topic)
	if err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe configs of %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("topic %s has no config %s", topic, key)
	return kadm.Config{}
}

// TestKafkaConfigsDescribeAlterDeleteTopic walks a topic's configs through
// kafka-configs as a student does: describe, add (with a bracketed list),
// describe again (dynamic and --all), delete, add from a file, and the
// errors for a config that is not set and a topic that does not exist.
func TestKafkaConfigsDescribeAlterDeleteTopic(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	mustCreateTopic(t, b, "post.office", 3)
	dir := scriptDir(t)
	kc := func(args ...string) result {
		return script(t, dir, "kafka-configs.sh", "", append([]string{"--bootstrap-server", b.Addr}, args...)...)
	}

	r := kc("--entity-type", "topics", "--entity-name", "post.office", "--describe")
	mustOK(t, r, "describe before alter")
	if want := "Dynamic configs for topic post.office are:\n"; r.stdout != want {
		t.Errorf("describe before alter = %q, want %q", r.stdout, want)
	}

	r = kc("--entity-type", "topics", "--entity-name", "post.office", "--alter", "--add-config", "retention.ms=3600000,cleanup.policy=[compact,delete]")
	mustOK(t, r, "alter")
	if want := "Completed updating config for topic post.office.\n"; r.stdout != want || r.stderr != "" {
		t.Errorf("alter printed stdout %q stderr %q, want stdout %q", r.stdout, r.stderr, want)
	}
	if c := topicConfig(t, adm, "post.office", "retention.ms"); c.MaybeValue() != "3600000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("after alter retention.ms = %q from %v, want 3600000 from the topic", c.MaybeValue(), c.Source)
	}
	if c := topicConfig(t, adm, "post.office", "cleanup.policy"); c.MaybeValue() != "compact,delete" {
		t.Errorf("after alter cleanup.policy = %q, want compact,delete (brackets removed)", c.MaybeValue())
	}

	r = kc("--topic", "post.office", "--describe") // Kafka 4.x shorthand
	mustOK(t, r, "describe after alter")
	ls := lines(r.stdout)
	if len(ls) != 3 || ls[0] != "Dynamic configs for topic post.office are:" {
		t.Fatalf("describe after alter:\n%s\nwant the header and 2 configs", r.stdout)
	}
	wantCleanup := regexp.MustCompile(`^  cleanup\.policy=compact,delete sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:cleanup\.policy=compact,delete(, [A-Z_]+:[a-z.]+=[^ ]*)*, DEFAULT_CONFIG:[a-z.]+=delete\}$`)
	if !wantCleanup.MatchString(ls[1]) {
		t.Errorf("cleanup.policy line = %q", ls[1])
	}
	wantRetention := regexp.MustCompile(`^  retention\.ms=3600000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention\.ms=3600000(, [A-Z_]+:[a-z.]+=[^ ]*)*, DEFAULT_CONFIG:[a-z.]+=\d+\}$`)
	if !wantRetention.MatchString(ls[2]) {
		t.Errorf("retention.ms line = %q", ls[2])
	}

	r = kc("--entity-type", "topics", "--entity-name", "post.office", "--describe", "--all")
	mustOK(t, r, "describe --all")
	ls = lines(r.stdout)
	if len(ls) < 10 || ls[0] != "All configs for topic post.office are:" {
		t.Fatalf("describe --all:\n%s\nwant the header and every topic config", r.stdout)
	}
	var keys []string
	for _, l := range ls[1:] {
		if !configEntryRE.MatchString(l) {
			t.Errorf("describe --all line %q is not ConfigCommand's layout", l)
		}
		keys = append(keys, strings.TrimPrefix(l[:strings.Index(l, "=")], "  "))
	}
	if !slices.IsSorted(keys) {
		t.Errorf("describe --all names are not sorted: %q", keys)
	}
	if !slices.ContainsFunc(ls, wantRetention.MatchString) {
		t.Errorf("describe --all misses the retention.ms override:\n%s", r.stdout)
	}
	if !slices.ContainsFunc(ls, func(l string) bool {
		return strings.HasPrefix(l, "  segment.bytes=1073741824 sensitive=false synonyms={") && strings.Contains(l, "DEFAULT_CONFIG:")
	}) {
		t.Errorf("describe --all misses segment.bytes at its default:\n%s", r.stdout)
	}

	r = kc("--topic", "post.office", "--alter", "--delete-config", "retention.ms")
	mustOK(t, r, "delete-config")
	if want := "Completed updating config for topic post.office.\n"; r.stdout != want {
		t.Errorf("delete-config stdout = %q, want %q", r.stdout, want)
	}
	if c := topicConfig(t, adm, "post.office", "retention.ms"); c.Source == kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("retention.ms still set on the topic after delete-config: %q", c.MaybeValue())
	}
	r = kc("--topic", "post.office", "--describe")
	if ls = lines(r.stdout); len(ls) != 2 || !wantCleanup.MatchString(ls[1]) {
		t.Errorf("describe after delete-config:\n%s\nwant only cleanup.policy", r.stdout)
	}

	r = kc("--topic", "post.office", "--alter", "--delete-config", "retention.ms,segment.ms")
	if r.code != 1 || r.stderr != "Invalid config(s): retention.ms,segment.ms\n" || r.stdout != "" {
		t.Errorf("deleting unset configs: exit %d stdout %q stderr %q, want exit 1 and Kafka's Invalid config(s)", r.code, r.stdout, r.stderr)
	}

	file := filepath.Join(t.TempDir(), "topic.properties")
	if err := os.WriteFile(file, []byte("# lab settings\nretention.ms = 7200000\nsegment.ms:60000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = kc("--topic", "post.office", "--alter", "--add-config-file", file)
	mustOK(t, r, "add-config-file")
	if c := topicConfig(t, adm, "post.office", "retention.ms"); c.MaybeValue() != "7200000" {
		t.Errorf("after add-config-file retention.ms = %q, want 7200000", c.MaybeValue())
	}
	if c := topicConfig(t, adm, "post.office", "segment.ms"); c.MaybeValue() != "60000" {
		t.Errorf("after add-config-file segment.ms = %q, want 60000", c.MaybeValue())
	}

	r = kc("--topic", "nope", "--describe")
	if r.code != 1 || r.stdout != "" || r.stderr != "The topic 'nope' doesn't exist and doesn't have dynamic config.\n" {
		t.Errorf("describe unknown topic: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	args := []string{"--bootstrap-server", b.Addr, "--alter", "--topic", "nope", "--add-config", "retention.ms=1"}
	r = samsa(t, "", append([]string{"kafka-configs"}, args...)...)
	errLines := lines(r.stderr)
	if r.code != 1 || len(errLines) != 2 {
		t.Fatalf("alter unknown topic: exit %d stderr %q, want exit 1 and 2 lines", r.code, r.stderr)
	}
	if want := "Error while executing config command with args '" + strings.Join(args, " ") + "'"; errLines[0] != want {
		t.Errorf("alter unknown topic line 1 = %q, want %q", errLines[0], want)
	}
	if !strings.HasPrefix(errLines[1], "UNKNOWN_TOPIC_OR_PARTITION: ") {
		t.Errorf("alter unknown topic line 2 = %q, want the broker's UNKNOWN_TOPIC_OR_PARTITION", errLines[1])
	}

	r = kc("--topic", "post.office", "--alter", "--add-config", "retention.ms=soon")
	if r.code != 1 || !strings.Contains(r.stderr, "\nINVALID_CONFIG: ") {
		t.Errorf("invalid value: exit %d stderr %q, want exit 1 and the broker's INVALID_CONFIG", r.code, r.stderr)
	}
}

// TestKafkaConfigsBrokerDefaultAndBroker sets, describes and deletes the
// brokers' cluster default and one broker's config.
func TestKafkaConfigsBrokerDefaultAndBroker(t *testing.T) {
	b := samsatest.Start(t)
	id := strconv.Itoa(int(b.Config.NodeID))
	dir := scriptDir(t)
	kc := func(args ...string) result {
		return script(t, dir, "kafka-configs", "", append([]string{"--bootstrap-server", b.Addr}, args...)...)
	}
	const defHeader = "Default configs for brokers in the cluster are:\n"

	r := kc("--entity-type", "brokers", "--entity-default", "--describe")
	mustOK(t, r, "describe default")
	if r.stdout != defHeader {
		t.Errorf("describe default before alter = %q, want %q", r.stdout, defHeader)
	}

	r = kc("--entity-type", "brokers", "--entity-default", "--alter", "--add-config", "log.retention.ms=86400000")
	mustOK(t, r, "alter default")
	if want := "Completed updating default config for brokers in the cluster.\n"; r.stdout != want {
		t.Errorf("alter default stdout = %q, want %q", r.stdout, want)
	}
	r = kc("--broker-defaults", "--describe")
	want := defHeader + "  log.retention.ms=86400000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=86400000}\n"
	if r.stdout != want {
		t.Errorf("describe default after alter = %q, want %q", r.stdout, want)
	}

	r = kc("--broker", id, "--alter", "--add-config", "log.retention.ms=43200000")
	mustOK(t, r, "alter broker")
	if want := "Completed updating config for broker " + id + ".\n"; r.stdout != want {
		t.Errorf("alter broker stdout = %q, want %q", r.stdout, want)
	}
	r = kc("--entity-type", "brokers", "--entity-name", id, "--describe")
	mustOK(t, r, "describe broker")
	ls := lines(r.stdout)
	wantLine := regexp.MustCompile(`^  log\.retention\.ms=43200000 sensitive=false synonyms=\{DYNAMIC_BROKER_CONFIG:log\.retention\.ms=43200000, DYNAMIC_DEFAULT_BROKER_CONFIG:log\.retention\.ms=86400000(, [A-Z_]+:[a-z.]+=[^ ]*)*\}$`)
	if len(ls) != 2 || ls[0] != "Dynamic configs for broker "+id+" are:" || !wantLine.MatchString(ls[1]) {
		t.Errorf("describe broker:\n%s", r.stdout)
	}

	r = kc("--entity-type", "brokers", "--describe")
	mustOK(t, r, "describe all brokers")
	if ls = lines(r.stdout); len(ls) != 4 || ls[2] != strings.TrimSuffix(defHeader, "\n") {
		t.Errorf("describe every broker:\n%s\nwant broker %s, then the cluster default", r.stdout, id)
	}

	r = kc("--entity-type", "brokers", "--entity-name", id, "--describe", "--all")
	mustOK(t, r, "describe broker --all")
	ls = lines(r.stdout)
	if len(ls) < 5 || ls[0] != "All configs for broker "+id+" are:" || !slices.ContainsFunc(ls, wantLine.MatchString) {
		t.Errorf("describe broker --all:\n%s", r.stdout)
	}
	for _, l := range ls[1:] {
		if !configEntryRE.MatchString(l) {
			t.Errorf("describe broker --all line %q is not ConfigCommand's layout", l)
		}
	}

	r = kc("--entity-type", "brokers", "--entity-default", "--alter", "--delete-config", "log.retention.ms")
	mustOK(t, r, "delete default")
	if r = kc("--entity-type", "brokers", "--entity-default", "--describe"); r.stdout != defHeader {
		t.Errorf("describe default after delete = %q, want %q", r.stdout, defHeader)
	}

	r = kc("--entity-type", "brokers", "--entity-name", "99", "--describe")
	if r.code != 1 || r.stdout != "" || r.stderr != "The broker '99' doesn't exist and doesn't have dynamic config.\n" {
		t.Errorf("describe unknown broker: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = kc("--broker", "99", "--alter", "--add-config", "log.retention.ms=1")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "The broker '99' doesn't exist") {
		t.Errorf("alter unknown broker: exit %d stderr %q", r.code, r.stderr)
	}
	args := []string{"--bootstrap-server", b.Addr, "--broker", id, "--alter", "--add-config", "broker.id=7"}
	r = script(t, dir, "kafka-configs", "", args...)
	if want := "Error while executing config command with args '" + strings.Join(args, " ") + "'\n"; r.code != 1 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("alter a static config: exit %d stderr %q, want exit 1 and %q first", r.code, r.stderr, want)
	}
}

// TestKafkaConfigsUsageErrorsExit2 checks that wrong command lines exit 2
// with a message that says what to give.
func TestKafkaConfigsUsageErrorsExit2(t *testing.T) {
	dir := scriptDir(t)
	both := filepath.Join(t.TempDir(), "x.properties")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no entity type", []string{"--describe"}, "At least one entity type must be specified: give --entity-type topics"},
		{"no action", []string{"--entity-type", "topics"}, "Command must include exactly one action: --describe, --alter"},
		{"two actions", []string{"--topic", "t", "--describe", "--alter"}, "Command must include exactly one action: --describe, --alter"},
		{"alter without configs", []string{"--topic", "t", "--alter"}, "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"},
		{"describe with add-config", []string{"--topic", "t", "--describe", "--add-config", "a=1"}, `Option "[describe]" can't be used with option "[add-config]"`},
		{"users", []string{"--entity-type", "users", "--describe"}, "--entity-type users is not supported by this tool"},
		{"clients", []string{"--entity-type", "clients", "--entity-name", "c", "--alter", "--add-config", "producer_byte_rate=1"}, "--entity-type clients is not supported by this tool"},
		{"ips", []string{"--entity-type", "ips", "--describe"}, "--entity-type ips is not supported by this tool"},
		{"user flag", []string{"--user", "alice", "--describe"}, "--user is not supported by samsa"},
		{"invalid type", []string{"--entity-type", "bogus", "--describe"}, "Invalid entity type bogus, the entity type must be one of broker-loggers, topics, clients, users, brokers, ips, client-metrics, groups"},
		{"duplicate type", []string{"--entity-type", "topics", "--entity-type", "topics", "--describe"}, "Duplicate entity type(s) specified: topics"},
		{"two types", []string{"--entity-type", "topics", "--entity-type", "brokers", "--describe"}, "Only 'users' and 'clients' entity types may be specified together"},
		{"name and shorthand", []string{"--entity-name", "x", "--topic", "t", "--describe"}, "--entity-{type,name,default} should not be used in conjunction with specific entity flags"},
		{"broker name not a number", []string{"--entity-type", "brokers", "--entity-name", "one", "--describe"}, "The entity name for brokers must be a valid integer broker id, but it is: one"},
		{"alter topic without name", []string{"--entity-type", "topics", "--alter", "--add-config", "a=1"}, "An entity name must be specified with --alter of topics"},
		{"alter brokers without name", []string{"--entity-type", "brokers", "--alter", "--add-config", "a=1"}, "An entity-name or default entity must be specified with --alter of users, clients, brokers or ips"},
		{"default of topics", []string{"--entity-type", "topics", "--entity-default", "--describe"}, "--entity-default must not be specified with --describe of topics"},
		{"name and default", []string{"--entity-type", "brokers", "--entity-name", "1", "--entity-default", "--describe"}, "Give either --entity-name or --entity-default"},
		{"malformed add-config", []string{"--topic", "t", "--alter", "--add-config", "a=b=c"}, errAddConfigFormat},
		{"bad config key", []string{"--topic", "t", "--alter", "--add-config", "retention ms=1"}, "Invalid character found for config key: retention ms"},
		{"add-config and file", []string{"--topic", "t", "--alter", "--add-config", "a=1", "--add-config-file", both}, "Only one of --add-config or --add-config-file must be specified"},
		{"positional argument", []string{"--topic", "t", "--describe", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := script(t, dir, "kafka-configs.sh", "", append([]string{"--bootstrap-server", "127.0.0.1:1"}, tt.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestKafkaConfigsParseAddConfigLikeKafka(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "retention.ms=3600000", want: map[string]string{"retention.ms": "3600000"}},
		{in: "k=v,k2=[a,b]", want: map[string]string{"k": "v", "k2": "a,b"}},
		{in: "k=[a,b],m=[c],n=d", want: map[string]string{"k": "a,b", "m": "c", "n": "d"}},
		{in: " k = v , k2=[ a , b ] ", want: map[string]string{"k": "v", "k2": "a , b"}},
		{in: "k=[x=y]", want: map[string]string{"k": "x=y"}},
		{in: "k=", want: map[string]string{"k": ""}},
		{in: "k=v,", want: map[string]string{"k": "v"}},
		{in: "k=1,k=2", want: map[string]string{"k": "2"}},
		{in: "a=b=c", wantErr: errAddConfigFormat},
		{in: "novalue", wantErr: errAddConfigFormat},
		{in: ",k=v", wantErr: errAddConfigFormat},
		{in: "=v", wantErr: errAddConfigFormat},
		{in: "", wantErr: errAddConfigFormat},
		{in: "a b=1", wantErr: "Invalid character found for config key: a b"},
	}
	for _, tt := range tests {
		got, err := parseAddConfig(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr || ExitCode(err) != exitUsage {
				t.Errorf("parseAddConfig(%q) = %v, %v; want usage error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("parseAddConfig(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestKafkaConfigsParseJavaProperties(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{in: "a=1\nb = 2\nc:3\nd 4\n", want: map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}},
		{in: "# comment\n! comment\n\n   e=5", want: map[string]string{"e": "5"}},
		{in: "f=one\\\n    two", want: map[string]string{"f": "onetwo"}},
		{in: "# not continued\\\ng=1", want: map[string]string{"g": "1"}},
		{in: `h=a\tb\u0041\=`, want: map[string]string{"h": "a\tbA="}},
		{in: `key\ with\ spaces=v`, want: map[string]string{"key with spaces": "v"}},
		{in: "i=\nj", want: map[string]string{"i": "", "j": ""}},
		{in: "k=1\r\nl=2\rm=3", want: map[string]string{"k": "1", "l": "2", "m": "3"}},
		{in: `n=x\\`, want: map[string]string{"n": `x\`}},
		{in: "o=1\no=2", want: map[string]string{"o": "2"}},
		{in: "p = v with spaces  ", want: map[string]string{"p": "v with spaces  "}},
		{in: `q=\u00`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseJavaProperties(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseJavaProperties(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("parseJavaProperties(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestKafkaConfigsWriteEntryLikeConfigCommand(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		c    kadm.Config
		want string
	}{
		{
			name: "topic override",
			c: kadm.Config{Key: "retention.ms", Value: str("3600000"), Source: kmsg.ConfigSourceDynamicTopicConfig, Synonyms: []kadm.ConfigSynonym{
				{Key: "retention.ms", Value: str("3600000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
				{Key: "log.retention.hours", Value: str("168"), Source: kmsg.ConfigSourceDefaultConfig},
			}},
			want: "  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000, DEFAULT_CONFIG:log.retention.hours=168}\n",
		},
		{
			name: "sensitive",
			c: kadm.Config{Key: "ssl.key.password", Sensitive: true, Source: kmsg.ConfigSourceDynamicBrokerConfig, Synonyms: []kadm.ConfigSynonym{
				{Key: "ssl.key.password", Source: kmsg.ConfigSourceDynamicBrokerConfig},
			}},
			want: "  ssl.key.password=null sensitive=true synonyms={DYNAMIC_BROKER_CONFIG:ssl.key.password=null}\n",
		},
		{
			name: "no synonyms",
			c:    kadm.Config{Key: "broker.id", Value: str("1"), Source: kmsg.ConfigSourceStaticBrokerConfig},
			want: "  broker.id=1 sensitive=false synonyms={}\n",
		},
		{
			name: "java source names",
			c: kadm.Config{Key: "x", Value: str(""), Synonyms: []kadm.ConfigSynonym{
				{Key: "x", Value: str("1"), Source: kmsg.ConfigSourceGroupConfig},
				{Key: "x", Value: str("2"), Source: kmsg.ConfigSourceClientMetricsConfig},
				{Key: "x", Value: str("3"), Source: kmsg.ConfigSourceStaticBrokerConfig},
				{Key: "x", Value: str("4"), Source: kmsg.ConfigSourceDynamicDefaultBrokerConfig},
				{Key: "x", Value: str("5"), Source: kmsg.ConfigSourceUnknown},
			}},
			want: "  x= sensitive=false synonyms={DYNAMIC_GROUP_CONFIG:x=1, DYNAMIC_CLIENT_METRICS_CONFIG:x=2, STATIC_BROKER_CONFIG:x=3, DYNAMIC_DEFAULT_BROKER_CONFIG:x=4, UNKNOWN:x=5}\n",
		},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		writeConfigEntry(&b, tt.c)
		if b.String() != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, b.String(), tt.want)
		}
	}

	headers := []struct {
		ent  configEntity
		all  bool
		want string
	}{
		{configEntity{typ: entityTopics, name: "post.office"}, false, "Dynamic configs for topic post.office are:\n"},
		{configEntity{typ: entityTopics, name: "post.office"}, true, "All configs for topic post.office are:\n"},
		{configEntity{typ: entityBrokers, name: "1"}, false, "Dynamic configs for broker 1 are:\n"},
		{configEntity{typ: entityBrokers, isDefault: true}, true, "Default configs for brokers in the cluster are:\n"},
	}
	for _, h := range headers {
		var b bytes.Buffer
		writeConfigsHeader(&b, h.ent, h.all)
		if b.String() != h.want {
			t.Errorf("header of %+v (all %v) = %q, want %q", h.ent, h.all, b.String(), h.want)
		}
	}
}
