package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchBatch is a ~16 KiB batch of 16 records of 1 KiB.
func benchBatch(b *testing.B) []byte { return simple(b, 16, 1024, "bench", 1_700_000_000_000) }

func BenchmarkValidateBatches(b *testing.B) {
	data := benchBatch(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ValidateBatches(data, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// benchLog opens a log on a temp dir of the real file system. Retention
// keeps its size bounded during long runs.
func benchLog(b *testing.B, flush FlushPolicy) (*Manager, *Log) {
	m := openTest(b, ManagerConfig{Flush: flush})
	b.Cleanup(func() { m.Close() })
	cfg := DefaultConfig()
	cfg.SegmentBytes = 64 << 20
	cfg.RetentionBytes = 256 << 20
	l, err := m.OpenLog("bench", 0, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return m, l
}

func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name     string
		flush    FlushPolicy
		wait     bool
		parallel bool
	}{
		{"FlushOS", FlushOS, false, false},
		{"FlushDurable/wait", FlushDurable, true, false},
		{"FlushDurable/wait/parallel", FlushDurable, true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, l := benchLog(b, tc.flush)
			data := benchBatch(b)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			before := m.SyncStats()
			appendOne := func(buf []byte) {
				r, err := l.Append(buf, 0)
				if err != nil {
					b.Fatal(err)
				}
				if r.BaseOffset%(16*4096) == 0 {
					m.ApplyRetention()
				}
				if tc.wait {
					if err := l.WaitFlushed(context.Background(), r.LastOffset+1); err != nil {
						b.Fatal(err)
					}
				}
			}
			if tc.parallel {
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					buf := append([]byte(nil), data...)
					for pb.Next() {
						appendOne(buf)
					}
				})
			} else {
				for b.Loop() {
					appendOne(data)
				}
			}
			if st := m.SyncStats(); tc.flush == FlushDurable && st.Rounds > before.Rounds {
				b.ReportMetric(float64(st.Bytes-before.Bytes)/float64(st.Rounds-before.Rounds)/1024, "KiB/sync")
			}
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, maxBytes := range []int{16 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("maxBytes=%d", maxBytes), func(b *testing.B) {
			_, l := benchLog(b, FlushOS)
			data := benchBatch(b)
			for range 1024 { // 16 MiB
				if _, err := l.Append(data, 0); err != nil {
					b.Fatal(err)
				}
			}
			leo := l.LogEndOffset()
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				out, err := l.Read(rng.Int64N(leo), maxBytes, leo)
				if err != nil || len(out) == 0 {
					b.Fatal(err)
				}
				n += int64(len(out))
			}
			b.SetBytes(n / int64(b.N))
		})
	}
}
