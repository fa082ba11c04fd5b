package cli

import (
	"math"
	"math/bits"
	"time"
)

// benchHistSubBits is how many bits of each value below its leading one a
// benchHist keeps: 2^7 = 128 buckets per power of two, so a reported
// percentile is at most 1/128 (0.8%) above the true value.
const benchHistSubBits = 7

// benchHistBuckets covers every non-negative int64: values below 2^8 have a
// bucket each, and each further power of two has 128.
const benchHistBuckets = (64 - benchHistSubBits + 1) << benchHistSubBits

// benchHist is a log-linear histogram of durations (like HdrHistogram with
// two significant digits): fixed size whatever the run length, so a long
// --duration cannot grow memory. It is not safe for concurrent use; the
// owner says which goroutine writes it.
type benchHist struct {
	counts [benchHistBuckets]uint64
	n      uint64
	sum    float64 // nanoseconds, for the mean
	min    time.Duration
	max    time.Duration
}

// benchHistIndex is the bucket of v (nanoseconds, >= 0).
func benchHistIndex(v uint64) int {
	if v < 1<<(benchHistSubBits+1) {
		return int(v)
	}
	shift := bits.Len64(v) - benchHistSubBits - 1
	return (shift+1)<<benchHistSubBits + int(v>>shift) - 1<<benchHistSubBits
}

// benchHistUpper is the largest value that lands in bucket i.
func benchHistUpper(i int) uint64 {
	if i < 1<<(benchHistSubBits+1) {
		return uint64(i)
	}
	shift := i>>benchHistSubBits - 1
	mant := uint64(i&(1<<benchHistSubBits-1)) + 1<<benchHistSubBits
	return (mant+1)<<shift - 1
}

// record adds one duration; negative durations count as zero.
func (h *benchHist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[benchHistIndex(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += float64(d)
}

// quantile is the smallest bucket bound below which at least q of the
// values lie (q in [0,1]), never above the largest value recorded. It is 0
// for an empty histogram.
func (h *benchHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(benchHistUpper(i))
			if v > h.max {
				v = h.max
			}
			if v < h.min {
				v = h.min
			}
			return v
		}
	}
	return h.max
}

// mean is the average value, 0 for an empty histogram.
func (h *benchHist) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// benchLatency is the summary of a benchHist, in milliseconds, as printed.
type benchLatency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// summary turns h into the printed percentiles.
func (h *benchHist) summary() *benchLatency {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &benchLatency{
		Count: h.n,
		Mean:  ms(h.mean()),
		P50:   ms(h.quantile(0.50)),
		P90:   ms(h.quantile(0.90)),
		P99:   ms(h.quantile(0.99)),
		P999:  ms(h.quantile(0.999)),
		Max:   ms(h.max),
	}
}
