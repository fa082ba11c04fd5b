package txn

import (
	"context"
	"fmt"
	"sync"
)

// blockSize is how many producer IDs one metadata write reserves.
const blockSize = 1000

// Allocator reserves blocks of producer IDs durably (meta.Store does).
type Allocator interface {
	AllocateProducerIDs(ctx context.Context, n int64) (first int64, err error)
}

// ProducerIDs hands out producer IDs that are never reused, even across
// restarts: each block is reserved in the metadata log before use, and IDs
// left in a block at shutdown are simply skipped.
type ProducerIDs struct {
	alloc Allocator

	mu   sync.Mutex // guards next and end
	next int64
	end  int64 // exclusive
}

// NewProducerIDs returns an allocator backed by a.
func NewProducerIDs(a Allocator) *ProducerIDs { return &ProducerIDs{alloc: a} }

// Next returns a fresh producer ID.
func (p *ProducerIDs) Next(ctx context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.end {
		first, err := p.alloc.AllocateProducerIDs(ctx, blockSize)
		if err != nil {
			return -1, fmt.Errorf("reserve producer ids: %w", err)
		}
		p.next, p.end = first, first+blockSize
	}
	id := p.next
	p.next++
	return id, nil
}
