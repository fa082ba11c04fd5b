package cli

// The entry points cmd/samsa calls: AddCommands builds the samsa-style
// command tree, KafkaScript picks a Kafka script by program name, and Run
// executes a command and turns its error into an exit status.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses of every CLI command.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line was wrong
)

// annotationRawErrors marks a command whose errors are printed as they are,
// without the "samsa: " prefix (the Kafka scripts print Kafka's own texts).
const annotationRawErrors = "samsa.raw-errors"

// errReported is a failure whose messages the command already printed;
// Run prints nothing more for it and exits 1.
var errReported = errors.New("failed (reported above)")

// usageError is a mistake on the command line: a missing or unknown flag, a
// bad value, a wrong number of arguments. Run exits with status 2 for it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usageError.
func usagef(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// AddCommands adds the CLI's commands to root: topic, produce, consume,
// group, cluster, install-scripts, and the Kafka scripts as subcommands
// (`samsa kafka-topics ...`).
func AddCommands(root *cobra.Command) {
	root.AddCommand(
		newTopicCmd(),
		newProduceCmd(),
		newConsumeCmd(),
		newGroupCmd(),
		newClusterCmd(),
		newInstallScriptsCmd(),
	)
	for _, s := range kafkaScriptTable() {
		cmd := s.build()
		cmd.Aliases = []string{s.name + ".sh"}
		root.AddCommand(cmd)
	}
}

// KafkaScript returns the command of the Kafka script that program names
// (the base name of argv[0]: "kafka-topics.sh" or "kafka-topics"), or nil
// if it names none.
func KafkaScript(program string) *cobra.Command {
	name := strings.TrimSuffix(program, ".sh")
	for _, s := range kafkaScriptTable() {
		if s.name == name {
			cmd := s.build()
			cmd.Use = program
			return cmd
		}
	}
	return nil
}

// Run executes cmd with args, prints any error to stderr and returns the
// exit status: 0 on success, 2 for a usage error, 1 for any other failure.
func Run(cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	setUsageErrors(cmd)
	ran, err := cmd.ExecuteC()
	if err == nil {
		return exitOK
	}
	if ran == nil {
		ran = cmd
	}
	code := ExitCode(err)
	printError(ran.ErrOrStderr(), ran, err, code)
	return code
}

// ExitCode is the exit status for err: 0 for nil, 2 for a usage error,
// 1 otherwise.
func ExitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	// cobra reports an unknown subcommand with a plain error.
	if strings.HasPrefix(err.Error(), "unknown command ") {
		return exitUsage
	}
	return exitError
}

// printError writes err for the user: Kafka scripts print their texts as
// they are; samsa commands prefix "samsa: "; usage errors add where to find
// help.
func printError(w io.Writer, cmd *cobra.Command, err error, code int) {
	if errors.Is(err, errReported) {
		return
	}
	msg := err.Error()
	if !rawErrors(cmd) {
		msg = "samsa: " + msg
	}
	fmt.Fprintln(w, msg)
	if code == exitUsage {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// rawErrors reports whether cmd or one of its parents prints raw errors.
func rawErrors(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[annotationRawErrors] != "" {
			return true
		}
	}
	return false
}

// setUsageErrors makes flag parsing errors of cmd and all its subcommands
// usage errors, and gives every command without an Args check NoArgs.
func setUsageErrors(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})
	if cmd.Args != nil {
		args := cmd.Args
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		setUsageErrors(sub)
	}
}

// stdinFile is the process's standard input as a file, for terminal checks.
func stdinFile(cmd *cobra.Command) *os.File {
	if f, ok := cmd.InOrStdin().(*os.File); ok {
		return f
	}
	return nil
}
