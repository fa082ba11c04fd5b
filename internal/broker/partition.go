package broker

import (
	"sync"
	"sync/atomic"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// partition is one partition hosted on this node: its log plus what the
// broker adds on top (high watermark, waiting fetches).
type partition struct {
	topic   string
	topicID [16]byte
	index   int32
	log     *storage.Log
	durable bool // flush policy: hwm follows the flushed offset

	leaderEpoch atomic.Int32

	mu      sync.Mutex // guards waiters and closed
	waiters map[chan struct{}]struct{}
	closed  bool
}

func newPartition(topic string, id [16]byte, index, epoch int32, l *storage.Log, durable bool) *partition {
	p := &partition{topic: topic, topicID: id, index: index, log: l, durable: durable, waiters: make(map[chan struct{}]struct{})}
	p.leaderEpoch.Store(epoch)
	return p
}

// hwm is the high watermark: consumers see offsets below it. On one node it
// is what is durable under the durable flush policy, and the log end offset
// when flushing is left to the OS.
// Invariant: logStart <= hwm <= leo.
func (p *partition) hwm() int64 {
	leo := p.log.LogEndOffset()
	if !p.durable {
		return leo
	}
	return min(p.log.FlushedOffset(), leo)
}

// wake tells every waiting fetch that the hwm may have moved.
func (p *partition) wake() {
	p.mu.Lock()
	for ch := range p.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
}

// watch registers ch (buffered, cap 1) to be signalled by wake.
func (p *partition) watch(ch chan struct{}) {
	p.mu.Lock()
	if p.closed {
		select {
		case ch <- struct{}{}:
		default:
		}
	} else {
		p.waiters[ch] = struct{}{}
	}
	p.mu.Unlock()
}

func (p *partition) unwatch(ch chan struct{}) {
	p.mu.Lock()
	delete(p.waiters, ch)
	p.mu.Unlock()
}

// close wakes waiters for good; the log itself is closed by its owner.
func (p *partition) close() {
	p.mu.Lock()
	p.closed = true
	for ch := range p.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.waiters = nil
	p.mu.Unlock()
}
