package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pending is one request that was read and awaits its response.
type pending struct {
	corr     int32
	key      int16
	version  int16
	flexible bool // response header v1 (tagged fields)
	resp     kmsg.Response
	finish   broker.Finish
	scratch  *scratch // buffers handed out through Request.Scratch; nil if none
}

// scratch collects the pooled buffers one request borrowed. It is used by
// the reader goroutine during Handle, then by the writer during Finish and
// the write, never by both at once.
type scratch struct {
	pool *bufPool
	bufs [][]byte
}

func (s *scratch) get(n int) []byte {
	b := s.pool.get(n)
	s.bufs = append(s.bufs, b)
	return b
}

// release returns every borrowed buffer; nothing may use them afterwards.
func (s *scratch) release() {
	if s == nil {
		return
	}
	for _, b := range s.bufs {
		s.pool.put(b)
	}
	s.bufs = nil
}

// conn is one client connection. The reader goroutine owns rd and decoding;
// the writer goroutine owns wr. They share only queue.
type conn struct {
	s   *Server
	nc  net.Conn
	id  uint64
	log *slog.Logger

	ctx    context.Context // cancelled when the connection dies
	cancel context.CancelFunc

	queue   chan pending  // read requests in order; closed by the reader when it stops
	drained chan struct{} // closed when the writer has answered everything queued

	stopOnce sync.Once
	stopping chan struct{} // closed by stopReading
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	return &conn{
		s:        s,
		nc:       nc,
		id:       id,
		log:      s.cfg.Logger.With("conn", id, "remote", nc.RemoteAddr().String()),
		ctx:      ctx,
		cancel:   cancel,
		queue:    make(chan pending, s.cfg.MaxInflight),
		drained:  make(chan struct{}),
		stopping: make(chan struct{}),
	}
}

// stopReading makes the reader stop after the request it is reading now;
// already-read requests are still answered. Cancelling the connection's
// context tells waiting handlers (long-polling fetches) to answer now.
func (c *conn) stopReading() {
	c.stopOnce.Do(func() {
		close(c.stopping)
		c.nc.SetReadDeadline(time.Now())
		c.cancel()
	})
}

func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer close(c.queue)
	rd := bufio.NewReaderSize(c.nc, 64<<10)
	var sizeBuf [4]byte
	for {
		if c.s.cfg.IdleTimeout > 0 {
			c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
		}
		select { // after the deadline is set, so stopReading's deadline wins
		case <-c.stopping:
			return
		default:
		}
		if _, err := io.ReadFull(rd, sizeBuf[:]); err != nil {
			c.readErr(err)
			return
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if size < 8 || size > c.s.cfg.MaxRequestBytes {
			c.log.Warn("closing connection: bad request size", "size", size, "max", c.s.cfg.MaxRequestBytes)
			c.abort()
			return
		}
		// Produce frames are the large ones, and storage copies their
		// records before the handler returns, so their buffers recycle.
		// Other requests may be retained by handlers (group metadata) and
		// get their own memory.
		pooled := size >= 2 && rd.Buffered() >= 2 && peekKey(rd) == produceKey
		var body []byte
		if pooled {
			body = c.s.bufs.get(int(size))
		} else {
			body = make([]byte, size)
		}
		if _, err := io.ReadFull(rd, body); err != nil {
			c.readErr(err)
			return
		}
		p, err := c.handle(body)
		if pooled {
			c.s.bufs.put(body)
		}
		if err != nil {
			c.log.Warn("closing connection: bad request", "err", err)
			c.abort()
			return
		}
		if p.resp == nil && p.finish == nil {
			p.scratch.release()
			continue // no response expected (acks=0)
		}
		select {
		case c.queue <- p: // usually room: the queue is bounded by MaxInflight
		default:
			select {
			case c.queue <- p:
			case <-c.ctx.Done():
				return
			}
		}
	}
}

func (c *conn) readErr(err error) {
	select {
	case <-c.stopping:
		return
	default:
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		c.log.Debug("connection closed by client")
	case errors.As(err, &ne) && ne.Timeout():
		c.log.Debug("closing idle connection")
	default:
		c.log.Debug("read failed", "err", err)
	}
}

// abort kills the connection at once: nothing more is read or written.
func (c *conn) abort() {
	c.cancel()
	c.nc.Close()
}

// handle parses the header, decodes the body and runs the handler.
func (c *conn) handle(body []byte) (p pending, err error) {
	h, rest, err := parseHeader(body, c.s.apis[:])
	if err != nil {
		return p, err
	}
	api := c.s.apis[h.key]
	p = pending{corr: h.corr, key: h.key, version: h.version}
	if h.key == apiVersionsKey && (h.version > api.MaxVersion) {
		// A client asking for a newer ApiVersions gets v0 with
		// UNSUPPORTED_VERSION and our table, and retries lower (KIP-511).
		p.version = 0
		p.resp = c.s.apiVersionsResponse(0, unsupportedVersion)
		return p, nil
	}
	req := kmsg.RequestForKey(h.key)
	req.SetVersion(h.version)
	if err := req.ReadFrom(rest); err != nil {
		return p, fmt.Errorf("decode %s v%d: %w", kmsg.NameForKey(h.key), h.version, err)
	}
	p.flexible = req.IsFlexible() && h.key != apiVersionsKey
	p.scratch = &scratch{pool: &c.s.bufs}
	r := &broker.Request{Key: h.key, Version: h.version, CorrelationID: h.corr, ClientID: h.clientID, Remote: c.nc.RemoteAddr(), ConnID: c.id, Scratch: p.scratch.get}
	if err := c.safely(func() { p.resp, p.finish = api.Handle(c.ctx, r, req) }); err != nil {
		return p, err
	}
	return p, nil
}

// safely runs f, turning a panic into an error after logging its stack.
func (c *conn) safely(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("bug: handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", v)
		}
	}()
	f()
	return nil
}

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	defer c.s.connDone(c)
	defer c.nc.Close()
	defer close(c.drained)
	defer c.cancel()
	wr := bufio.NewWriterSize(c.nc, 64<<10)
	broken := false
	for p := range c.queue {
		if broken {
			p.scratch.release()
			continue // drain so the reader never blocks
		}
		resp := p.resp
		if p.finish != nil {
			if err := c.safely(func() { resp = p.finish(c.ctx) }); err != nil {
				p.scratch.release()
				c.abort()
				broken = true
				continue
			}
		}
		if resp == nil {
			p.scratch.release()
			continue
		}
		resp.SetVersion(p.version)
		buf := c.s.bufs.get(responseSizeHint(resp))
		buf = append(buf[:0], 0, 0, 0, 0)
		buf = binary.BigEndian.AppendUint32(buf, uint32(p.corr))
		if p.flexible {
			buf = append(buf, 0) // empty tagged fields of response header v1
		}
		buf = resp.AppendTo(buf)
		binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
		p.scratch.release()     // the response is encoded: borrowed buffers are free
		_, err := wr.Write(buf) // bufio copies or writes through; buf is free after
		c.s.bufs.put(buf)
		if err != nil {
			c.writeErr(err)
			broken = true
			continue
		}
		if len(c.queue) == 0 {
			if err := wr.Flush(); err != nil {
				c.writeErr(err)
				broken = true
			}
		}
	}
	if !broken {
		wr.Flush()
	}
}

func (c *conn) writeErr(err error) {
	if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.log.Debug("write failed", "err", err)
	}
	c.abort()
}

const produceKey = 0

// peekKey reads the API key of the buffered frame body without consuming it.
func peekKey(rd *bufio.Reader) int16 {
	b, err := rd.Peek(2)
	if err != nil {
		return -1
	}
	return int16(binary.BigEndian.Uint16(b))
}
