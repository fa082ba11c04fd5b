package server

import (
	"math/bits"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// bufPool recycles the large byte slices of the hot paths — produce request
// frames and encoded responses — in power-of-two size classes, so a busy
// connection does not allocate (and zero) a fresh buffer per request.
// Buffers return to the pool only when nothing can still reference them.
type bufPool struct {
	classes [maxClass + 1]sync.Pool // class c holds *[]byte with cap 1<<c
}

const (
	minClass = 12 // 4 KiB: smaller buffers are cheap to allocate
	maxClass = 27 // 128 MiB: above the largest request frame allowed
)

func sizeClass(n int) int {
	if n <= 1<<minClass {
		return minClass
	}
	return bits.Len(uint(n - 1))
}

// get returns a slice of length n.
func (p *bufPool) get(n int) []byte {
	c := sizeClass(n)
	if c > maxClass {
		return make([]byte, n)
	}
	if v := p.classes[c].Get(); v != nil {
		return (*v.(*[]byte))[:n]
	}
	return make([]byte, n, 1<<c)
}

// put recycles b; b must not be used afterwards.
func (p *bufPool) put(b []byte) {
	c := sizeClass(cap(b))
	if c > maxClass || cap(b) != 1<<c {
		return
	}
	b = b[:0]
	p.classes[c].Put(&b)
}

// responseSizeHint estimates a response's encoded size so the buffer is
// sized once instead of doubling while record bytes are copied in. Only
// fetch responses are large.
func responseSizeHint(resp kmsg.Response) int {
	f, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return 512
	}
	n := 64
	for i := range f.Topics {
		t := &f.Topics[i]
		n += 32 + len(t.Topic)
		for j := range t.Partitions {
			n += 96 + len(t.Partitions[j].RecordBatches)
		}
	}
	return n
}
