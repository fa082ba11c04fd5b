package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/console"
)

// defaultConsoleListen is where the console listens unless told otherwise.
const defaultConsoleListen = "127.0.0.1:8080"

// newConsoleCmd is `samsa console`: the web console alone, against any
// Kafka-compatible cluster.
func newConsoleCmd() *cobra.Command {
	cc := console.DefaultConfig()
	cc.StateFile = defaultConsoleState()
	var brokers, listen, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Run the web console against a cluster",
		Long: "Serve the web console (brokers, topics, messages, consumer groups) for the\n" +
			"cluster at --brokers. `samsa serve` already runs one for its own broker.",
		Example: "  samsa console --brokers 127.0.0.1:9092 --console-listen 127.0.0.1:8081",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return err
			}
			logger, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			cc.Logger = logger
			cc.Brokers = nil
			for _, b := range strings.Split(brokers, ",") {
				if b = strings.TrimSpace(b); b != "" {
					cc.Brokers = append(cc.Brokers, b)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cs, err := startConsole(cc, listen, logger)
			if err != nil {
				return err
			}
			var serveErr error
			select {
			case <-ctx.Done():
			case serveErr = <-cs.errc:
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			cs.Close(sctx)
			return serveErr
		},
	}
	f := cmd.Flags()
	f.StringVarP(&brokers, "brokers", "b", "127.0.0.1:9092", "bootstrap brokers HOST:PORT[,HOST:PORT...] ("+envName("brokers")+")")
	f.StringVar(&listen, "console-listen", defaultConsoleListen, "address the web console binds ("+envName("console-listen")+")")
	f.BoolVar(&cc.ReadOnly, "console-read-only", false, "refuse every change (create, delete, produce, reset)")
	f.DurationVar(&cc.RequestTimeout, "console-timeout", cc.RequestTimeout, "how long one admin call may take before the cluster counts as unreachable")
	f.StringVar(&cc.StateFile, "console-state", cc.StateFile, "JSON file that keeps the clusters added on the Clusters page across restarts; '' keeps them in memory only ("+envName("console-state")+")")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// defaultConsoleState is where `samsa console` keeps the clusters added on
// its Clusters page: $XDG_CONFIG_HOME/samsa/console.json, else
// ~/.config/samsa/console.json; "" (memory only) when neither is known.
func defaultConsoleState() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "samsa", "console.json")
}

// consoleServer is a running console: its HTTP server and the console
// itself. Close stops both and waits for the serving goroutine.
type consoleServer struct {
	c    *console.Console
	srv  *http.Server
	errc chan error // receives Serve's error, once
}

// startConsole makes a console and serves it on addr.
func startConsole(cfg console.Config, addr string, log *slog.Logger) (*consoleServer, error) {
	c, err := console.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("console listen %s: %w (pick another address with --console-listen)", addr, err)
	}
	cs := &consoleServer{
		c:    c,
		srv:  &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second},
		errc: make(chan error, 1),
	}
	go func() {
		err := cs.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		cs.errc <- err
	}()
	log.Info("samsa console ready", "url", "http://"+ln.Addr().String(), "brokers", strings.Join(cfg.Brokers, ","), "read_only", cfg.ReadOnly, "state_file", cfg.StateFile)
	return cs, nil
}

// Close stops accepting requests, waits for running ones until ctx ends,
// and closes the console's Kafka client.
func (cs *consoleServer) Close(ctx context.Context) {
	if err := cs.srv.Shutdown(ctx); err != nil {
		cs.srv.Close()
	}
	cs.c.Close()
}
