package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // profiles for --debug-listen
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/console"
	"github.com/samsa-streaming/samsa/internal/server"
	"github.com/samsa-streaming/samsa/internal/storage"
)

func newServeCmd() *cobra.Command {
	bc := broker.DefaultConfig()
	sc := server.DefaultConfig()
	cc := console.DefaultConfig()
	var consoleListen string
	var (
		advertised, flush, logFormat, logLevel, debugListen string
		shutdownTimeout                                     time.Duration
	)
	bc.DataDir = defaultDataDir()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a broker and its web console",
		Long: "Run a Kafka-compatible broker, and the web console for it on --console-listen.\n" +
			"Every flag can also be set with an environment variable: --data-dir is\n" +
			"SAMSA_DATA_DIR, --listen is SAMSA_LISTEN, and so on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return err
			}
			logger, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			switch flush {
			case "durable":
				bc.Flush = storage.FlushDurable
			case "os":
				bc.Flush = storage.FlushOS
			default:
				return fmt.Errorf("--flush %q: use durable (fsync before acks) or os (leave it to the page cache)", flush)
			}
			bc.Logger, sc.Logger, cc.Logger = logger, logger, logger
			cc.StateFile = filepath.Join(bc.DataDir, "console", "clusters.json")
			con := consoleOptions{cfg: cc, listen: consoleListen, required: cmd.Flags().Changed("console-listen")}
			if debugListen != "" {
				if err := serveDebug(debugListen, logger); err != nil {
					return err
				}
			}
			return serve(cmd.Context(), bc, sc, con, advertised, shutdownTimeout, logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&sc.Listen, "listen", sc.Listen, "address the Kafka listener binds ("+envName("listen")+")")
	f.StringVar(&advertised, "advertised-addr", "", "HOST:PORT clients are told to connect to (default: the bound listen address)")
	f.StringVar(&bc.DataDir, "data-dir", bc.DataDir, "directory for all data")
	f.Int32Var(&bc.NodeID, "node-id", bc.NodeID, "this broker's id")
	f.Int32Var(&bc.DefaultPartitions, "partitions", bc.DefaultPartitions, "partitions of a topic created without a count (num.partitions)")
	f.Int16Var(&bc.DefaultReplicationFactor, "replication-factor", bc.DefaultReplicationFactor, "default replication factor")
	f.BoolVar(&bc.AutoCreateTopics, "auto-create-topics", bc.AutoCreateTopics, "create a topic when a client asks for an unknown one")
	f.StringVar(&flush, "flush", "durable", "flush policy: durable (fsync with group commit before acks) or os (page cache, like Kafka's default)")
	f.Int64Var(&bc.Log.SegmentBytes, "segment-bytes", bc.Log.SegmentBytes, "default segment size (log.segment.bytes)")
	f.DurationVar(&bc.Log.SegmentAge, "segment-age", bc.Log.SegmentAge, "roll a segment after this long (log.roll.ms)")
	f.DurationVar(&bc.Log.RetentionAge, "retention", bc.Log.RetentionAge, "delete segments older than this; negative keeps forever (log.retention.ms)")
	f.Int64Var(&bc.Log.RetentionBytes, "retention-bytes", bc.Log.RetentionBytes, "delete old segments above this partition size; -1 for no limit (log.retention.bytes)")
	f.DurationVar(&bc.RetentionCheckInterval, "retention-check-interval", bc.RetentionCheckInterval, "how often retention runs")
	f.IntVar(&bc.Log.MaxMessageBytes, "max-message-bytes", bc.Log.MaxMessageBytes, "largest record batch accepted (message.max.bytes)")
	f.Int32Var(&sc.MaxRequestBytes, "max-request-bytes", sc.MaxRequestBytes, "largest request frame; larger ones close the connection")
	f.Int32Var(&bc.Group.OffsetsTopicPartitions, "offsets-topic-partitions", bc.Group.OffsetsTopicPartitions, "partitions of __consumer_offsets when it is created (offsets.topic.num.partitions)")
	f.DurationVar(&bc.Group.InitialRebalanceDelay, "group-initial-rebalance-delay", bc.Group.InitialRebalanceDelay, "how long a new group waits for more members before its first rebalance (group.initial.rebalance.delay.ms)")
	f.DurationVar(&bc.Group.MinSessionTimeout, "group-min-session-timeout", bc.Group.MinSessionTimeout, "shortest session timeout a consumer may ask for (group.min.session.timeout.ms)")
	f.DurationVar(&bc.Group.MaxSessionTimeout, "group-max-session-timeout", bc.Group.MaxSessionTimeout, "longest session timeout a consumer may ask for (group.max.session.timeout.ms)")
	f.DurationVar(&bc.Group.OffsetsRetention, "offsets-retention", bc.Group.OffsetsRetention, "committed offsets of a group empty this long are deleted (offsets.retention.minutes)")
	f.IntVar(&sc.MaxConns, "max-connections", sc.MaxConns, "client connections accepted at once")
	f.IntVar(&sc.MaxInflight, "max-inflight", sc.MaxInflight, "requests read but not yet answered per connection")
	f.DurationVar(&sc.IdleTimeout, "idle-timeout", sc.IdleTimeout, "close connections idle this long (0 = never)")
	f.StringVar(&consoleListen, "console-listen", defaultConsoleListen, "address the web console binds; empty: no console ("+envName("console-listen")+")")
	f.BoolVar(&cc.ReadOnly, "console-read-only", false, "the web console only shows; it refuses every change")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&debugListen, "debug-listen", "", "if set, serve Go's pprof profiles on this address (e.g. 127.0.0.1:6060)")
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long in-flight requests may take")
	return cmd
}

// defaultDataDir is where data lives when --data-dir is not given:
// $XDG_DATA_HOME/samsa, else ~/.local/share/samsa, else ./samsa-data.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "samsa")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "samsa")
	}
	return "samsa-data"
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// consoleOptions says whether and where serve runs the web console.
type consoleOptions struct {
	cfg      console.Config
	listen   string // "": no console
	required bool   // --console-listen was given: failing to listen is an error
}

func serve(parent context.Context, bc broker.Config, sc server.Config, con consoleOptions, advertised string, shutdownTimeout time.Duration, log *slog.Logger) error {
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	b, err := broker.Open(ctx, bc)
	if err != nil {
		return err
	}
	srv, err := server.New(sc, b.APIs())
	if err != nil {
		b.Close()
		return err
	}
	if err := srv.Listen(); err != nil {
		b.Close()
		return fmt.Errorf("%w (is another broker running? pick another address with --listen)", err)
	}
	host, port, err := advertisedHostPort(advertised, srv.Addr())
	if err == nil {
		err = b.Register(ctx, host, port)
	}
	if err != nil {
		srv.Close(context.Background())
		b.Close()
		return err
	}
	log.Info("samsa broker ready", "addr", net.JoinHostPort(host, strconv.Itoa(int(port))), "data_dir", bc.DataDir, "startup", time.Since(start).Round(time.Millisecond))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	var cs *consoleServer
	var consoleErrc chan error // nil without a console: never ready
	if con.listen != "" {
		con.cfg.Brokers = []string{net.JoinHostPort(host, strconv.Itoa(int(port)))}
		cs, err = startConsole(con.cfg, con.listen, log)
		switch {
		case err != nil && con.required:
			srv.Close(context.Background())
			b.Close()
			return err
		case err != nil:
			// The default address is taken (another samsa, say): the broker
			// is still useful without its console.
			log.Warn("web console not started", "err", err)
			err = nil
		default:
			consoleErrc = cs.errc
		}
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errc:
		log.Error("listener failed", "err", err)
	case err = <-consoleErrc:
		log.Error("console failed", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if cs != nil {
		cs.Close(sctx)
	}
	srv.Close(sctx)
	if cerr := b.Close(); cerr != nil {
		log.Error("close broker", "err", cerr)
		if err == nil {
			err = cerr
		}
	}
	log.Info("stopped")
	return err
}

// advertisedHostPort is what metadata tells clients: the flag, or the bound
// address.
func advertisedHostPort(flag string, bound net.Addr) (string, int32, error) {
	addr := flag
	if addr == "" {
		addr = bound.String()
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("--advertised-addr %q: want HOST:PORT: %w", flag, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("--advertised-addr %q: bad port", flag)
	}
	return h, int32(port), nil
}

// serveDebug serves net/http/pprof on addr for profiling a running broker.
func serveDebug(addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-listen %s: %w", addr, err)
	}
	log.Info("serving pprof", "addr", ln.Addr().String())
	go http.Serve(ln, nil) // lives as long as the process
	return nil
}
