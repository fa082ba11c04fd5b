// Command kfakepeer is a benchmark peer only: it runs franz-go's kfake, an
// in-process fake Kafka cluster, as a separate single-broker process on a
// given port, so bench/run.sh can drive it with `samsa bench` exactly as it
// drives `samsa serve` and compare the two. It is not part of Samsa and is
// not shipped.
//
//	kfakepeer --listen 127.0.0.1:9093 [--data-dir DIR [--sync]] [--partitions 6]
//
// Without --data-dir kfake keeps everything in memory. With it, kfake
// writes its log to DIR and relies on the page cache; --sync adds an fsync
// per batch (kfake.SyncWrites). Topics are auto-created. It prints "ready"
// (and the address) on stdout once it listens, then runs until SIGINT or
// SIGTERM.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kfakepeer:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		listen     = flag.String("listen", "127.0.0.1:9093", "HOST:PORT to listen on (port 0 picks one)")
		dataDir    = flag.String("data-dir", "", "persist to this directory (default: in memory only)")
		sync       = flag.Bool("sync", false, "fsync every batch (kfake.SyncWrites); needs --data-dir")
		partitions = flag.Int("partitions", 6, "partitions of an auto-created topic")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if *sync && *dataDir == "" {
		return fmt.Errorf("--sync needs --data-dir")
	}
	if *partitions < 1 {
		return fmt.Errorf("--partitions %d: need at least 1", *partitions)
	}
	host, portStr, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", *listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("--listen %q: port: %w", *listen, err)
	}

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(*partitions),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
		if *sync {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start kfake: %w", err)
	}
	defer c.Close()

	fmt.Println("ready", c.ListenAddrs()[0])

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
