package samsatest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/server"
)

// Broker is a broker running inside the test process.
type Broker struct {
	Addr    string // host:port of the Kafka listener
	DataDir string
	Config  broker.Config

	t      testing.TB
	b      *broker.Broker
	srv    *server.Server
	served chan struct{}
	closed bool
}

// Option changes the broker configuration before start.
type Option func(*broker.Config)

// Start starts a broker on 127.0.0.1:0 with t.TempDir() as data directory
// and stops it at cleanup.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	cfg := broker.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Logger = TestLogger(t)
	for _, o := range opts {
		o(&cfg)
	}
	return StartWith(t, cfg)
}

// StartWith starts a broker with exactly cfg (for restarts on the same
// data directory).
func StartWith(t testing.TB, cfg broker.Config) *Broker {
	t.Helper()
	b, err := broker.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	sc := server.DefaultConfig()
	sc.Listen = "127.0.0.1:0"
	sc.Logger = cfg.Logger
	srv, err := server.New(sc, b.APIs())
	if err != nil {
		b.Close()
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Listen(); err != nil {
		b.Close()
		t.Fatalf("listen: %v", err)
	}
	addr := srv.Addr().(*net.TCPAddr)
	if err := b.Register(context.Background(), "127.0.0.1", int32(addr.Port)); err != nil {
		srv.Close(context.Background())
		b.Close()
		t.Fatalf("register: %v", err)
	}
	tb := &Broker{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port)), DataDir: cfg.DataDir, Config: cfg, t: t, b: b, srv: srv, served: make(chan struct{})}
	go func() {
		defer close(tb.served)
		if err := srv.Serve(); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(tb.Stop)
	return tb
}

// Stop shuts the broker down cleanly (idempotent).
func (tb *Broker) Stop() {
	if tb.closed {
		return
	}
	tb.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tb.srv.Close(ctx)
	<-tb.served
	if err := tb.b.Close(); err != nil {
		tb.t.Errorf("close broker: %v", err)
	}
}

// Restart stops the broker cleanly and starts a new one on the same data
// directory (on a new port).
func (tb *Broker) Restart() *Broker {
	tb.Stop()
	return StartWith(tb.t, tb.Config)
}

// Client returns a franz-go client for the broker, closed at cleanup.
func (tb *Broker) Client(opts ...kgo.Opt) *kgo.Client {
	tb.t.Helper()
	return NewClient(tb.t, tb.Addr, opts...)
}

// Admin returns a kadm admin client, closed at cleanup.
func (tb *Broker) Admin() *kadm.Client {
	return kadm.NewClient(tb.Client())
}

// NewClient makes a franz-go client for addr, closed at cleanup.
func NewClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Context returns a context that ends after d or at test cleanup.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Eventually polls cond every 10ms until it returns true, failing the test
// after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLogger logs through t.Log at Debug when SAMSA_TEST_LOG=1, otherwise
// only warnings and errors (so a failing test shows what went wrong).
func TestLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("SAMSA_TEST_LOG") == "1" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: level}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

var _ io.Writer = tWriter{}

// RequireTool returns the path of an external program a cross-client test
// needs. Locally a missing tool skips the test with the package to install;
// in CI (CI set) it fails, so nothing skips silently there.
func RequireTool(t testing.TB, name, aptPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found: CI must install it (apt-get install %s)", name, aptPackage)
	}
	t.Skipf("%s not found: install it with apt-get install %s", name, aptPackage)
	return ""
}

// Buffer is a bytes.Buffer that one goroutine (a child process's output
// copier, a logger) writes while a test reads it.
type Buffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
