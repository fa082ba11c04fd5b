// Command samsa is the one Samsa binary: `samsa serve` runs a broker; the
// other commands come with the CLI. Called by one of Kafka's script names
// (a link named kafka-topics.sh, kafka-console-consumer ...), it behaves as
// that script. This package only turns flags and SAMSA_* environment
// variables into each package's Config and wires them.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/samsa-streaming/samsa/internal/cli"
)

func main() {
	if script := cli.KafkaScript(filepath.Base(os.Args[0])); script != nil {
		os.Exit(cli.Run(script, os.Args[1:]))
	}
	root := &cobra.Command{
		Use:   "samsa",
		Short: "Samsa: a Kafka-compatible event streaming platform in one binary",
	}
	root.AddCommand(newServeCmd())
	root.AddCommand(newConsoleCmd())
	root.AddCommand(cli.NewBenchCmd())
	cli.AddCommands(root)
	os.Exit(cli.Run(root, os.Args[1:]))
}

// bindEnv lets SAMSA_<FLAG_NAME> set any flag the command line did not set,
// e.g. SAMSA_DATA_DIR for --data-dir.
func bindEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := "SAMSA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

// envName is the environment variable that sets a flag (for help texts).
func envName(flag string) string {
	return "SAMSA_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
