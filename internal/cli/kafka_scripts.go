package cli

// Kafka's scripts, answered by the same binary: the table of script names,
// what their commands share (--bootstrap-server, flags we do not support),
// and `samsa install-scripts DIR`, which links the names to the binary.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
)

// kafkaScript is one of Kafka's command-line tools that samsa answers to.
type kafkaScript struct {
	name  string // without ".sh"
	build func() *cobra.Command
}

// kafkaScriptTable lists the Kafka scripts samsa answers to.
func kafkaScriptTable() []kafkaScript {
	return []kafkaScript{
		{"kafka-topics", newKafkaTopicsCmd},
		{"kafka-console-producer", newKafkaConsoleProducerCmd},
		{"kafka-console-consumer", newKafkaConsoleConsumerCmd},
		{"kafka-consumer-groups", newKafkaConsumerGroupsCmd},
		{"kafka-configs", newKafkaConfigsCmd},
	}
}

// newKafkaCmd is the skeleton of a Kafka script command: no positional
// arguments, errors printed as they are.
func newKafkaCmd(name, short string) *cobra.Command {
	return &cobra.Command{
		Use:         name,
		Short:       short,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotationRawErrors: "yes"},
		// Kafka's tools take only long flags; none of them sort flags.
		DisableFlagsInUseLine: true,
	}
}

// kafkaMessage is an error whose text is a message of Kafka's tools, word
// for word: capitalised and ending in a full stop, unlike Go errors.
type kafkaMessage struct {
	text  string
	cause error // what %w wrapped; may be nil
}

func (e *kafkaMessage) Error() string { return e.text }
func (e *kafkaMessage) Unwrap() error { return e.cause }

// kafkaErrorf formats one of Kafka's messages; a %w verb wraps as in
// fmt.Errorf.
func kafkaErrorf(format string, a ...any) error {
	err := fmt.Errorf(format, a...)
	return &kafkaMessage{text: err.Error(), cause: errors.Unwrap(err)}
}

// kafkaBootstrap resolves --bootstrap-server: the flag, then SAMSA_BROKERS,
// then 127.0.0.1:9092 (Kafka requires the flag; samsa does not).
func kafkaBootstrap(server string) (connOptions, error) {
	brokers, err := brokerList(server)
	if err != nil {
		return connOptions{}, err
	}
	return connOptions{brokers: brokers}, nil
}

// kafkaAdmin connects an admin client to --bootstrap-server (server) for
// the kafka-* tools that only administer; the caller closes it.
func kafkaAdmin(ctx context.Context, server string) (*kadm.Client, error) {
	conn, err := kafkaBootstrap(server)
	if err != nil {
		return nil, err
	}
	return conn.admin(ctx)
}

// unsupportedFlags registers Kafka flags samsa accepts in the help but
// refuses when used, so the refusal names the flag instead of "unknown
// flag".
type unsupportedFlags struct {
	fs    *pflag.FlagSet
	names []string
}

// add registers names as string flags (noArg: as boolean flags).
func (u *unsupportedFlags) add(noArg bool, names ...string) {
	for _, n := range names {
		if noArg {
			u.fs.Bool(n, false, "not supported by samsa")
		} else {
			u.fs.String(n, "", "not supported by samsa")
		}
		u.names = append(u.names, n)
	}
}

// check fails with a usage error naming the first unsupported flag used.
func (u *unsupportedFlags) check() error {
	for _, n := range u.names {
		if u.fs.Changed(n) {
			return usagef("--%s is not supported by samsa", n)
		}
	}
	return nil
}

// kafkaProps parses repeated key=value properties (--property and
// friends); later values win.
func kafkaProps(flag string, pairs []string) (map[string]string, error) {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, usagef("--%s %q: use key=value", flag, p)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// propBool reads a boolean property the way Kafka does: "true" in any case
// is true, anything else false; def when absent.
func propBool(props map[string]string, key string, def bool) bool {
	v, ok := props[key]
	if !ok {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}

// kafkaScriptNames are the file names install-scripts creates.
func kafkaScriptNames() []string {
	var out []string
	for _, s := range kafkaScriptTable() {
		out = append(out, s.name+".sh", s.name)
	}
	return out
}

func newInstallScriptsCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "install-scripts DIR",
		Short: "Link Kafka's script names (kafka-topics.sh ...) to this binary in DIR",
		Long: "Create symbolic links named after Kafka's scripts (kafka-topics.sh,\n" +
			"kafka-console-producer.sh, kafka-console-consumer.sh, kafka-consumer-groups.sh,\n" +
			"kafka-configs.sh, with and without .sh) in DIR, all pointing to this binary, so commands written\n" +
			"for Kafka work unchanged. Put DIR on your PATH, or cd into it and run ./kafka-topics.sh.",
		Example: "  samsa install-scripts ~/bin\n  samsa install-scripts . && ./kafka-topics.sh --bootstrap-server localhost:9092 --list",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this binary: %w", err)
			}
			if exe, err = filepath.EvalSymlinks(exe); err != nil {
				return fmt.Errorf("find this binary: %w", err)
			}
			if goRunBinary(exe) {
				return usagef("this samsa was started by `go run`, which deletes its binary on exit: the links would point nowhere. Build it first: go build -o samsa ./cmd/samsa && ./samsa install-scripts %s (or go install ./cmd/samsa)", args[0])
			}
			return installScripts(args[0], exe, force, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "replace existing files of the same names")
	return cmd
}

// goRunBinary says whether exe is a temporary binary of `go run`
// ($TMPDIR/go-build.../exe/NAME), gone once it exits.
func goRunBinary(exe string) bool {
	return strings.Contains(filepath.ToSlash(exe), "/go-build") && filepath.Base(filepath.Dir(exe)) == "exe"
}

// installScripts links every Kafka script name in dir to target. An
// existing link to target is left alone; any other existing file is an
// error unless force is set.
func installScripts(dir, target string, force bool, progress io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install scripts: %w", err)
	}
	for _, name := range kafkaScriptNames() {
		path := filepath.Join(dir, name)
		if cur, err := os.Readlink(path); err == nil && cur == target {
			continue
		}
		if _, err := os.Lstat(path); err == nil {
			if !force {
				return fmt.Errorf("install scripts: %s exists; remove it or use --force", path)
			}
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("install scripts: %w", err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("install scripts: %w", err)
		}
		if err := os.Symlink(target, path); err != nil {
			return fmt.Errorf("install scripts: %w", err)
		}
		fmt.Fprintf(progress, "%s -> %s\n", path, target)
	}
	return nil
}
