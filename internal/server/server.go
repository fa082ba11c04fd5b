package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config configures a Server.
type Config struct {
	// Listen is the TCP address to listen on, e.g. "127.0.0.1:9092".
	Listen string
	// MaxRequestBytes bounds one request frame (socket.request.max.bytes).
	MaxRequestBytes int32
	// MaxInflight bounds the requests of one connection that have been read
	// but not yet answered.
	MaxInflight int
	// MaxConns bounds open client connections; more are closed at accept.
	MaxConns int
	// IdleTimeout closes a connection that sends nothing for this long
	// (connections.max.idle.ms). Zero disables it.
	IdleTimeout time.Duration
	// Logger receives lifecycle and misbehaviour logs.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults a newcomer gets.
func DefaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:9092",
		MaxRequestBytes: 100 << 20,
		MaxInflight:     64,
		MaxConns:        10000,
		IdleTimeout:     10 * time.Minute,
		Logger:          slog.Default(),
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Listen == "":
		return errors.New("server: listen address is empty")
	case c.MaxRequestBytes < 1024:
		return fmt.Errorf("server: max request bytes %d is below 1024", c.MaxRequestBytes)
	case c.MaxInflight < 1:
		return fmt.Errorf("server: max in-flight requests %d must be at least 1", c.MaxInflight)
	case c.MaxConns < 1:
		return fmt.Errorf("server: max connections %d must be at least 1", c.MaxConns)
	case c.Logger == nil:
		return errors.New("server: logger is nil")
	}
	return nil
}

// Server serves the Kafka protocol on one listener.
// Its fields are set by New and read-only afterwards, except mu's.
type Server struct {
	cfg  Config
	apis [apiTableSize]*broker.API // indexed by key; nil = not served
	ln   net.Listener

	bufs bufPool // produce frames and response buffers

	nextConnID atomic.Uint64
	nconns     atomic.Int64
	closing    atomic.Bool // set by Close before the listener is closed

	// ctx is cancelled by Close; handlers waiting on it give up.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex // guards conns
	conns map[*conn]struct{}
	wg    sync.WaitGroup // accept loop and connection goroutines
}

const apiTableSize = 128

// New builds a server for the given APIs. ApiVersions (key 18) is served by
// the server itself from this table.
func New(cfg Config, apis []broker.API) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, conns: make(map[*conn]struct{})}
	for i := range apis {
		a := &apis[i]
		if a.Key < 0 || int(a.Key) >= apiTableSize || a.Key == apiVersionsKey {
			return nil, fmt.Errorf("server: cannot register api key %d", a.Key)
		}
		if probe := kmsg.RequestForKey(a.Key); probe == nil || a.MaxVersion > probe.MaxVersion() || a.MinVersion < 0 || a.MinVersion > a.MaxVersion {
			return nil, fmt.Errorf("server: api key %d versions %d-%d are not decodable", a.Key, a.MinVersion, a.MaxVersion)
		}
		s.apis[a.Key] = a
	}
	s.apis[apiVersionsKey] = &broker.API{Key: apiVersionsKey, MinVersion: 0, MaxVersion: 4, Handle: s.handleApiVersions}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Listen binds the listener. Addr is valid afterwards.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.cfg.Logger.Info("listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Close. It returns nil after Close.
func (s *Server) Serve() error {
	s.wg.Add(1)
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		if s.nconns.Load() >= int64(s.cfg.MaxConns) {
			s.cfg.Logger.Warn("connection limit reached; closing new connection", "remote", c.RemoteAddr().String(), "limit", s.cfg.MaxConns)
			c.Close()
			continue
		}
		s.startConn(c)
	}
}

func (s *Server) startConn(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c := newConn(s, nc, s.nextConnID.Add(1))
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.nconns.Add(1)
	s.wg.Add(2)
	s.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

func (s *Server) connDone(c *conn) {
	s.mu.Lock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.nconns.Add(-1)
	}
	s.mu.Unlock()
}

// Close stops accepting, lets connections finish the requests they have read
// (bounded by ctx), then closes them and waits for their goroutines.
func (s *Server) Close(ctx context.Context) error {
	s.closing.Store(true)
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	// Stop reading new requests; the writers drain what was read.
	for _, c := range conns {
		c.stopReading()
	}
	done := make(chan struct{})
	go func() {
		for _, c := range conns {
			<-c.drained
		}
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.cancel()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
