package cli

// kafka-configs.sh: Kafka's ConfigCommand (4.x) for topics and brokers.
// --describe prints "Dynamic configs for topic T are:" (or "All configs
// ..." with --all, "Default configs for brokers in the cluster are:" for
// the cluster default) and one "  name=value sensitive=false synonyms={...}"
// line per config, sorted by name, byte for byte; --alter sends one
// IncrementalAlterConfigs (deletes, then sets) and prints "Completed
// updating config for topic T.". Flags and messages are Kafka's, with the
// 4.x shorthands --topic, --broker and --broker-defaults. Differences, as
// in the other scripts: a topic or broker that does not exist is an error
// on stderr with exit status 1 (Kafka prints it on stdout and exits 0), a
// wrong command line exits 2, and a failed request prints Kafka's first
// line ("Error while executing config command with args '...'") followed
// by the broker's error instead of a Java stack trace. Users, clients, ips,
// broker-loggers, client-metrics and groups are refused as not supported.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Entity types kafka-configs acts on.
const (
	entityTopics  = "topics"
	entityBrokers = "brokers"
)

// kafkaEntityTypes are every entity type Kafka's ConfigCommand knows, in
// the order its "Invalid entity type" message lists them.
var kafkaEntityTypes = []string{"broker-loggers", entityTopics, "clients", "users", entityBrokers, "ips", "client-metrics", "groups"}

// kafkaConfigsOptions are kafka-configs' flags.
type kafkaConfigsOptions struct {
	server                   string
	alter, describe, all     bool
	entityTypes              []string // --entity-type, repeatable
	entityNames              []string // --entity-name, repeatable
	entityDefault            bool
	topic, broker            string // --topic, --broker shorthands
	brokerDefaults           bool
	addConfigs               []string // --add-config, repeatable
	addConfigFile            string
	deleteConfigs            []string // --delete-config, repeatable, comma separated
	topicSet, brokerSet      bool     // --topic, --broker given
	entityTypeSet, entitySet bool     // --entity-type given; --entity-name or --entity-default given
}

// configEntity is the entity one kafka-configs run acts on.
type configEntity struct {
	typ string // entityTopics or entityBrokers
	// name is the topic or broker id; "" for the brokers' cluster default
	// (isDefault) and when --describe names no entity (every one of typ).
	name      string
	isDefault bool
}

// configChanges are what --alter sets and deletes.
type configChanges struct {
	set map[string]string // name to value
	del []string          // in the order given
}

func newKafkaConfigsCmd() *cobra.Command {
	o := &kafkaConfigsOptions{}
	cmd := newKafkaCmd("kafka-configs", "Kafka's kafka-configs.sh: describe and alter topic and broker configs")
	cmd.Long = "This tool helps to manipulate and describe entity config for a topic or broker (Kafka's\n" +
		"kafka-configs.sh, answered by samsa). Exactly one action: --describe or --alter.\n" +
		"Entity types topics and brokers are supported; users, clients, ips, broker-loggers,\n" +
		"client-metrics and groups are not."
	cmd.Example = "  kafka-configs.sh --bootstrap-server localhost:9092 --entity-type topics --entity-name post.office --describe\n" +
		"  kafka-configs.sh --bootstrap-server localhost:9092 --alter --topic post.office --add-config retention.ms=3600000,cleanup.policy=[compact,delete]\n" +
		"  kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type brokers --entity-default --add-config log.retention.ms=86400000"
	fs := cmd.Flags()
	fs.StringVar(&o.server, "bootstrap-server", "", "the Kafka server to connect to (default: $"+brokersEnv+" or "+defaultBrokers+")")
	fs.BoolVar(&o.alter, "alter", false, "alter the configuration for the entity")
	fs.BoolVar(&o.describe, "describe", false, "list configs for the given entity")
	fs.BoolVar(&o.all, "all", false, "list all configs for the given entity, including static configs and defaults")
	fs.StringArrayVar(&o.entityTypes, "entity-type", nil, "type of entity: topics or brokers")
	fs.StringArrayVar(&o.entityNames, "entity-name", nil, "name of entity: topic name or broker id")
	fs.BoolVar(&o.entityDefault, "entity-default", false, "the cluster-wide default of brokers")
	fs.StringVar(&o.topic, "topic", "", "the topic's name (same as --entity-type topics --entity-name)")
	fs.StringVar(&o.broker, "broker", "", "the broker's id (same as --entity-type brokers --entity-name)")
	fs.BoolVar(&o.brokerDefaults, "broker-defaults", false, "the config defaults for all brokers (same as --entity-type brokers --entity-default)")
	fs.StringArrayVar(&o.addConfigs, "add-config", nil, "key=value pairs of configs to add, comma separated; square brackets group values that contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'")
	fs.StringVar(&o.addConfigFile, "add-config-file", "", "path to a properties file with configs to add")
	fs.StringArrayVar(&o.deleteConfigs, "delete-config", nil, "config keys to remove: 'k1,k2'")
	un := &unsupportedFlags{fs: fs}
	un.add(false, "command-config", "bootstrap-controller", "client", "user", "ip", "broker-logger", "client-metrics", "group")
	un.add(true, "client-defaults", "user-defaults", "ip-defaults")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := un.check(); err != nil {
			return err
		}
		ent, err := o.check(cmd)
		if err != nil {
			return err
		}
		var ch configChanges
		if o.alter {
			if ch, err = o.changes(); err != nil {
				return configCommandError(err)
			}
		}
		ctx := cmd.Context()
		adm, err := kafkaAdmin(ctx, o.server)
		if err != nil {
			return err
		}
		defer adm.Close()
		if o.alter {
			err = runConfigsAlter(ctx, adm, ent, ch, cmd.OutOrStdout())
		} else {
			err = runConfigsDescribe(ctx, adm, ent, o.all, cmd.OutOrStdout())
		}
		return configCommandError(err)
	}
	return cmd
}

// check validates the flag combination as ConfigCommandOptions.checkArgs
// does and returns the entity to act on.
func (o *kafkaConfigsOptions) check(cmd *cobra.Command) (configEntity, error) {
	fs := cmd.Flags()
	o.topicSet, o.brokerSet = fs.Changed("topic"), fs.Changed("broker")
	o.entityTypeSet = fs.Changed("entity-type")
	o.entitySet = fs.Changed("entity-name") || o.entityDefault
	if o.alter == o.describe {
		return configEntity{}, usagef("Command must include exactly one action: --describe, --alter")
	}
	if o.describe {
		for _, f := range []string{"alter", "add-config", "add-config-file", "delete-config"} {
			if fs.Changed(f) {
				return configEntity{}, usagef("Option \"[describe]\" can't be used with option \"[%s]\"", f)
			}
		}
	}
	types := slices.Clone(o.entityTypes)
	if o.topicSet {
		types = append(types, entityTopics)
	}
	if o.brokerSet {
		types = append(types, entityBrokers)
	}
	if o.brokerDefaults {
		types = append(types, entityBrokers)
	}
	if err := checkEntityTypes(types); err != nil {
		return configEntity{}, err
	}
	if (o.entityTypeSet || o.entitySet) && (o.topicSet || o.brokerSet || o.brokerDefaults) {
		return configEntity{}, usagef("--entity-{type,name,default} should not be used in conjunction with specific entity flags")
	}
	ent := configEntity{typ: types[0]}
	names := slices.Clone(o.entityNames)
	if o.topicSet {
		names = append(names, o.topic)
	}
	if o.brokerSet {
		names = append(names, o.broker)
	}
	ent.isDefault = o.entityDefault || o.brokerDefaults
	switch {
	case len(names) > 1:
		return configEntity{}, usagef("Give one --entity-name: samsa's kafka-configs acts on one entity at a time")
	case len(names) == 1 && ent.isDefault:
		return configEntity{}, usagef("Give either --entity-name or --entity-default, not both")
	case len(names) == 1:
		ent.name = names[0]
	}
	if ent.typ == entityBrokers && ent.name != "" {
		if _, err := strconv.ParseInt(ent.name, 10, 32); err != nil {
			return configEntity{}, usagef("The entity name for brokers must be a valid integer broker id, but it is: %s", ent.name)
		}
	}
	if o.describe && ent.isDefault && ent.typ != entityBrokers {
		return configEntity{}, usagef("--entity-default must not be specified with --describe of %s", ent.typ)
	}
	if o.alter {
		if ent.typ == entityBrokers {
			if ent.name == "" && !ent.isDefault {
				return configEntity{}, usagef("An entity-name or default entity must be specified with --alter of users, clients, brokers or ips")
			}
		} else if ent.name == "" {
			return configEntity{}, usagef("An entity name must be specified with --alter of %s", ent.typ)
		}
		addSet, fileSet, delSet := fs.Changed("add-config"), fs.Changed("add-config-file"), fs.Changed("delete-config")
		if addSet && fileSet {
			return configEntity{}, usagef("Only one of --add-config or --add-config-file must be specified")
		}
		if !addSet && !fileSet && !delSet {
			return configEntity{}, usagef("At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter")
		}
	}
	return ent, nil
}

// checkEntityTypes accepts exactly one entity type, topics or brokers.
func checkEntityTypes(types []string) error {
	for i, t := range types {
		if slices.Contains(types[:i], t) {
			return usagef("Duplicate entity type(s) specified: %s", t)
		}
	}
	for _, t := range types {
		if t == entityTopics || t == entityBrokers {
			continue
		}
		if slices.Contains(kafkaEntityTypes, t) {
			return usagef("--entity-type %s is not supported by this tool: samsa's kafka-configs handles topics and brokers", t)
		}
		return usagef("Invalid entity type %s, the entity type must be one of %s with a --bootstrap-server or --bootstrap-controller argument",
			t, strings.Join(kafkaEntityTypes, ", "))
	}
	switch {
	case len(types) == 0:
		return usagef("At least one entity type must be specified: give --entity-type topics or --entity-type brokers (or --topic, --broker, --broker-defaults)")
	case len(types) > 1:
		return usagef("Only 'users' and 'clients' entity types may be specified together")
	}
	return nil
}

// changes reads --add-config (or --add-config-file) and --delete-config.
func (o *kafkaConfigsOptions) changes() (configChanges, error) {
	ch := configChanges{set: make(map[string]string)}
	if o.addConfigFile != "" {
		data, err := os.ReadFile(o.addConfigFile)
		if err != nil {
			return ch, fmt.Errorf("read --add-config-file: %w", err)
		}
		props, err := parseJavaProperties(string(data))
		if err != nil {
			return ch, usagef("--add-config-file %s: %v", o.addConfigFile, err)
		}
		for k, v := range props {
			if err := checkConfigKey(k); err != nil {
				return ch, err
			}
			ch.set[k] = v
		}
	}
	for _, a := range o.addConfigs {
		m, err := parseAddConfig(a)
		if err != nil {
			return ch, err
		}
		for k, v := range m {
			ch.set[k] = v
		}
	}
	for _, d := range o.deleteConfigs {
		for _, k := range strings.Split(d, ",") {
			if k = strings.TrimSpace(k); k != "" && !slices.Contains(ch.del, k) {
				ch.del = append(ch.del, k)
			}
		}
	}
	return ch, nil
}

// errAddConfigFormat is Kafka's message for a malformed --add-config (the
// two spaces are Kafka's).
const errAddConfigFormat = `Invalid entity config: all configs to be added must be in the format "key=val" or  "key=[val1,val2]" to group values which contain commas.`

// parseAddConfig parses one --add-config value the way Kafka does: pairs
// separated by commas outside square brackets, key and value separated by
// '=' outside brackets and trimmed, brackets removed from the value
// ("k=[a,b]" sets k to "a,b").
func parseAddConfig(s string) (map[string]string, error) {
	pairs := splitOutsideBrackets(s, ',')
	// Java's String.split drops trailing empty strings.
	for len(pairs) > 1 && pairs[len(pairs)-1] == "" {
		pairs = pairs[:len(pairs)-1]
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		kv := splitOutsideBrackets(p, '=')
		if len(kv) != 2 || strings.TrimSpace(kv[0]) == "" {
			return nil, usagef("%s", errAddConfigFormat)
		}
		k := strings.TrimSpace(kv[0])
		if err := checkConfigKey(k); err != nil {
			return nil, err
		}
		v := strings.NewReplacer("[", "", "]", "").Replace(kv[1])
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}

// splitOutsideBrackets splits s at every sep that is not inside square
// brackets: a sep counts when, after it, a '[' or the end of s comes
// before any ']' (Kafka's lookahead (?=[^\]]*(?:\[|$))).
func splitOutsideBrackets(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep && outsideBrackets(s[i+1:]) {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// outsideBrackets reports whether rest (what follows a separator) reaches
// a '[' or its end before a ']'.
func outsideBrackets(rest string) bool {
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '[':
			return true
		case ']':
			return false
		}
	}
	return true
}

// configKeyRE is what Kafka accepts as a config name.
var configKeyRE = regexp.MustCompile(`^[$a-zA-Z0-9._-]*$`)

// checkConfigKey refuses a config name with characters Kafka refuses.
func checkConfigKey(k string) error {
	if !configKeyRE.MatchString(k) {
		return usagef("Invalid character found for config key: %s", k)
	}
	return nil
}

// parseJavaProperties reads a Java .properties file as
// java.util.Properties.load does: '#' and '!' comments, key and value
// separated by '=', ':' or whitespace, lines continued by a trailing
// backslash, and the escapes \t \n \r \f \uXXXX (any other escaped
// character stands for itself). Later keys win.
func parseJavaProperties(data string) (map[string]string, error) {
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	natural := strings.Split(data, "\n")
	props := make(map[string]string)
	const blank = " \t\f"
	for i := 0; i < len(natural); i++ {
		line := strings.TrimLeft(natural[i], blank)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continued(line) {
			line = line[:len(line)-1]
			if i+1 >= len(natural) {
				break
			}
			i++
			line += strings.TrimLeft(natural[i], blank)
		}
		end := 0 // end of the key
		for end < len(line) && !strings.ContainsRune("=: \t\f", rune(line[end])) {
			if line[end] == '\\' {
				end++
			}
			end++
		}
		end = min(end, len(line))
		rest := strings.TrimLeft(line[end:], blank)
		if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = strings.TrimLeft(rest[1:], blank)
		}
		k, err := unescapeProperty(line[:end])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		v, err := unescapeProperty(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		props[k] = v
	}
	return props, nil
}

// continued reports whether a properties line ends in an odd number of
// backslashes, so that it continues on the next line.
func continued(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// unescapeProperty resolves the escapes of a properties key or value.
func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", errors.New(`malformed \uxxxx encoding`)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", errors.New(`malformed \uxxxx encoding`)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

// configCommandError turns a failed request into ConfigCommand's report:
// "Error while executing config command with args '...'" and, where Kafka
// prints a stack trace, the error. Messages that are Kafka's own texts and
// unreachable brokers pass through.
func configCommandError(err error) error {
	var km *kafkaMessage
	if err == nil || errors.As(err, &km) || errors.Is(err, errUnreachable) || errors.Is(err, context.Canceled) {
		return err
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	cause := err.Error()
	var be *brokerError
	var ke *kerr.Error
	if errors.As(err, &be) && errors.As(be.err, &ke) {
		cause = ke.Message + ": " + be.Error()
	}
	return &kafkaMessage{
		text:  fmt.Sprintf("Error while executing config command with args '%s'\n%s", strings.Join(scriptArgs("kafka-configs"), " "), cause),
		cause: err,
	}
}

// scriptArgs are the words after the script's name on this process's
// command line: after argv[0] when the binary was called by the script's
// name, after the subcommand for `samsa kafka-configs ...`.
func scriptArgs(name string) []string {
	for i := 0; i < len(os.Args) && i < 2; i++ {
		if strings.TrimSuffix(filepath.Base(os.Args[i]), ".sh") == name {
			return os.Args[i+1:]
		}
	}
	return nil
}

// brokerExists reports whether the cluster has a broker with id name.
func brokerExists(ctx context.Context, adm *kadm.Client, name string) (bool, error) {
	ids, err := brokerIDs(ctx, adm)
	if err != nil {
		return false, err
	}
	return slices.Contains(ids, name), nil
}

// brokerIDs lists the cluster's broker ids, sorted.
func brokerIDs(ctx context.Context, adm *kadm.Client) ([]string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	bds, err := adm.ListBrokers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list brokers: %w", err)
	}
	ids := bds.NodeIDs()
	slices.Sort(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(int(id))
	}
	return out, nil
}

// describeEntityConfigs returns the configs the broker describes for one
// entity (with synonyms).
func describeEntityConfigs(ctx context.Context, adm *kadm.Client, ent configEntity) ([]kadm.Config, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var rcs kadm.ResourceConfigs
	var err error
	switch {
	case ent.typ == entityTopics:
		rcs, err = adm.DescribeTopicConfigs(ctx, ent.name)
	case ent.name == "":
		rcs, err = adm.DescribeBrokerConfigs(ctx)
	default:
		id, perr := strconv.ParseInt(ent.name, 10, 32)
		if perr != nil {
			return nil, fmt.Errorf("describe configs of broker %q: %w", ent.name, perr)
		}
		rcs, err = adm.DescribeBrokerConfigs(ctx, int32(id))
	}
	if err != nil {
		return nil, fmt.Errorf("describe configs: %w", err)
	}
	rc, err := rcs.On(ent.name, nil)
	if err != nil {
		return nil, fmt.Errorf("describe configs of %s: no answer for %q", ent.typ, ent.name)
	}
	if rc.Err != nil {
		return nil, &brokerError{err: rc.Err, msg: rc.ErrMessage}
	}
	return rc.Configs, nil
}

// dynamicSource is the config source --describe shows without --all, and
// the one whose configs --delete-config may remove.
func (ent configEntity) dynamicSource() kmsg.ConfigSource {
	switch {
	case ent.typ == entityTopics:
		return kmsg.ConfigSourceDynamicTopicConfig
	case ent.name == "":
		return kmsg.ConfigSourceDynamicDefaultBrokerConfig
	}
	return kmsg.ConfigSourceDynamicBrokerConfig
}

// singular is the entity type in the singular, as Kafka's messages use it.
func (ent configEntity) singular() string {
	return strings.TrimSuffix(ent.typ, "s")
}

// selectConfigs keeps the configs of source (all of them with all) and
// sorts them by name.
func selectConfigs(cs []kadm.Config, all bool, source kmsg.ConfigSource) []kadm.Config {
	var out []kadm.Config
	for _, c := range cs {
		if all || c.Source == source {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func runConfigsDescribe(ctx context.Context, adm *kadm.Client, ent configEntity, all bool, out io.Writer) error {
	var ents []configEntity
	switch {
	case ent.name != "" || ent.isDefault:
		if err := checkEntityExists(ctx, adm, ent); err != nil {
			return err
		}
		ents = []configEntity{ent}
	case ent.typ == entityTopics:
		names, _, err := topicNames(ctx, adm, true)
		if err != nil {
			return err
		}
		for _, n := range names {
			ents = append(ents, configEntity{typ: entityTopics, name: n})
		}
	default:
		ids, err := brokerIDs(ctx, adm)
		if err != nil {
			return err
		}
		for _, id := range ids {
			ents = append(ents, configEntity{typ: entityBrokers, name: id})
		}
		ents = append(ents, configEntity{typ: entityBrokers, isDefault: true})
	}
	for _, e := range ents {
		cs, err := describeEntityConfigs(ctx, adm, e)
		if err != nil {
			return err
		}
		writeConfigsHeader(out, e, all)
		for _, c := range selectConfigs(cs, all, e.dynamicSource()) {
			writeConfigEntry(out, c)
		}
	}
	return nil
}

// checkEntityExists fails with Kafka's message for a topic or broker that
// is not in the cluster.
func checkEntityExists(ctx context.Context, adm *kadm.Client, ent configEntity) error {
	if ent.isDefault {
		return nil
	}
	var ok bool
	if ent.typ == entityTopics {
		names, _, err := topicNames(ctx, adm, true)
		if err != nil {
			return err
		}
		ok = slices.Contains(names, ent.name)
	} else {
		var err error
		if ok, err = brokerExists(ctx, adm, ent.name); err != nil {
			return err
		}
	}
	if !ok {
		return kafkaErrorf("The %s '%s' doesn't exist and doesn't have dynamic config.", ent.singular(), ent.name)
	}
	return nil
}

// writeConfigsHeader prints the line ConfigCommand starts an entity's
// configs with.
func writeConfigsHeader(w io.Writer, ent configEntity, all bool) {
	if ent.isDefault {
		fmt.Fprintf(w, "Default configs for %s in the cluster are:\n", ent.typ)
		return
	}
	which := "Dynamic"
	if all {
		which = "All"
	}
	fmt.Fprintf(w, "%s configs for %s %s are:\n", which, ent.singular(), ent.name)
}

// writeConfigEntry prints one config as ConfigCommand does:
// "  name=value sensitive=false synonyms={SOURCE:name=value, ...}"; an
// absent (or sensitive) value prints as null.
func writeConfigEntry(w io.Writer, c kadm.Config) {
	syns := make([]string, len(c.Synonyms))
	for i, s := range c.Synonyms {
		v := "null"
		if s.Value != nil {
			v = *s.Value
		}
		syns[i] = javaConfigSource(s.Source) + ":" + s.Key + "=" + v
	}
	fmt.Fprintf(w, "  %s=%s sensitive=%t synonyms={%s}\n", c.Key, configValue(c), c.Sensitive, strings.Join(syns, ", "))
}

// javaConfigSource names a config source as Kafka's Java admin client
// does (ConfigEntry.ConfigSource), which differs from the protocol's names
// for client metrics and group configs.
func javaConfigSource(s kmsg.ConfigSource) string {
	switch s {
	case kmsg.ConfigSourceDynamicTopicConfig:
		return "DYNAMIC_TOPIC_CONFIG"
	case kmsg.ConfigSourceDynamicBrokerConfig:
		return "DYNAMIC_BROKER_CONFIG"
	case kmsg.ConfigSourceDynamicDefaultBrokerConfig:
		return "DYNAMIC_DEFAULT_BROKER_CONFIG"
	case kmsg.ConfigSourceStaticBrokerConfig:
		return "STATIC_BROKER_CONFIG"
	case kmsg.ConfigSourceDefaultConfig:
		return "DEFAULT_CONFIG"
	case kmsg.ConfigSourceDynamicBrokerLoggerConfig:
		return "DYNAMIC_BROKER_LOGGER_CONFIG"
	case kmsg.ConfigSourceClientMetricsConfig:
		return "DYNAMIC_CLIENT_METRICS_CONFIG"
	case kmsg.ConfigSourceGroupConfig:
		return "DYNAMIC_GROUP_CONFIG"
	}
	return "UNKNOWN"
}

func runConfigsAlter(ctx context.Context, adm *kadm.Client, ent configEntity, ch configChanges, out io.Writer) error {
	if ent.typ == entityBrokers && !ent.isDefault {
		ok, err := brokerExists(ctx, adm, ent.name)
		if err != nil {
			return err
		}
		if !ok {
			return kafkaErrorf("The broker '%s' doesn't exist; see: samsa cluster info", ent.name)
		}
	}
	cs, err := describeEntityConfigs(ctx, adm, ent)
	if err != nil {
		return err
	}
	dynamic := selectConfigs(cs, false, ent.dynamicSource())
	var missing []string
	for _, k := range ch.del {
		if !slices.ContainsFunc(dynamic, func(c kadm.Config) bool { return c.Key == k }) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return kafkaErrorf("Invalid config(s): %s", strings.Join(missing, ","))
	}
	var alters []kadm.AlterConfig
	for _, k := range ch.del {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	keys := make([]string, 0, len(ch.set))
	for k := range ch.set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := ch.set[k]
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
	}
	if err := alterEntityConfigs(ctx, adm, ent, alters); err != nil {
		return err
	}
	if ent.isDefault {
		fmt.Fprintf(out, "Completed updating default config for %s in the cluster.\n", ent.typ)
	} else {
		fmt.Fprintf(out, "Completed updating config for %s %s.\n", ent.singular(), ent.name)
	}
	return nil
}

// alterEntityConfigs sends one IncrementalAlterConfigs for the entity.
func alterEntityConfigs(ctx context.Context, adm *kadm.Client, ent configEntity, alters []kadm.AlterConfig) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var rs kadm.AlterConfigsResponses
	var err error
	switch {
	case ent.typ == entityTopics:
		rs, err = adm.AlterTopicConfigs(ctx, alters, ent.name)
	case ent.isDefault:
		rs, err = adm.AlterBrokerConfigs(ctx, alters)
	default:
		id, perr := strconv.ParseInt(ent.name, 10, 32)
		if perr != nil {
			return fmt.Errorf("alter configs of broker %q: %w", ent.name, perr)
		}
		rs, err = adm.AlterBrokerConfigs(ctx, alters, int32(id))
	}
	if err != nil {
		return fmt.Errorf("alter configs: %w", err)
	}
	r, err := rs.On(ent.name, nil)
	if err != nil {
		return fmt.Errorf("alter configs of %s: no answer for %q", ent.typ, ent.name)
	}
	if r.Err != nil {
		return &brokerError{err: r.Err, msg: r.ErrMessage}
	}
	return nil
}
