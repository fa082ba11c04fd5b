package storage

import (
	"testing"
)

func TestOffsetForTimestamp(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 1500
	cfg.IndexIntervalBytes = 100
	_, l := openLog(t, ManagerConfig{}, cfg)
	// Timestamps by offset, with the records of each batch out of order
	// and a compressed batch in the middle.
	//   batch 0 (offsets 0-2):  1000, 1002, 1001
	//   batch 1 (3-5, gzip):    2000, 1990, 2010
	//   batch 2 (6-8, zstd):    3000, 3005, 3001
	//   batches 3.. (9-..):     4000 + 10*i per single-record batch
	mustAppend(t, l, batchSpec{values: values(3, 50, "a"), baseTs: 1000, tsDeltas: []int64{0, 2, 1}, pid: -1}.build(t))
	mustAppend(t, l, batchSpec{values: values(3, 50, "b"), baseTs: 2000, tsDeltas: []int64{0, -10, 10}, pid: -1, codec: CompressionGzip}.build(t))
	mustAppend(t, l, batchSpec{values: values(3, 50, "c"), baseTs: 3000, tsDeltas: []int64{0, 5, 1}, pid: -1, codec: CompressionZstd}.build(t))
	for i := range 40 {
		mustAppend(t, l, batchSpec{values: values(1, 100, "d"), baseTs: 4000 + 10*int64(i), pid: -1}.build(t))
	}
	if l.NumSegments() < 3 {
		t.Fatalf("%d segments, want several", l.NumSegments())
	}
	for _, tc := range []struct {
		ts, off, got int64
	}{
		{0, 0, 1000},
		{1000, 0, 1000},
		{1001, 1, 1002},
		{1002, 1, 1002},
		{1003, 3, 2000},
		{1995, 3, 2000},
		{2001, 5, 2010},
		{2010, 5, 2010},
		{3002, 7, 3005},
		{3006, 9, 4000},
		{4001, 10, 4010},
		{4390, 48, 4390},
		{4391, -1, -1},
	} {
		off, ts, err := l.OffsetForTimestamp(tc.ts)
		if err != nil || off != tc.off || ts != tc.got {
			t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v; want %d, %d", tc.ts, off, ts, err, tc.off, tc.got)
		}
	}
	if off, ts, err := l.MaxTimestamp(); err != nil || off != 48 || ts != 4390 {
		t.Fatalf("MaxTimestamp = %d, %d, %v", off, ts, err)
	}
	// The max inside a compressed batch is found at its exact record.
	_, l2 := openLog(t, ManagerConfig{}, cfg)
	mustAppend(t, l2, batchSpec{values: values(3, 50, "a"), baseTs: 1000, pid: -1}.build(t))
	mustAppend(t, l2, batchSpec{values: values(4, 50, "b"), baseTs: 5000, tsDeltas: []int64{0, 30, 2, 30}, pid: -1, codec: CompressionZstd}.build(t))
	mustAppend(t, l2, batchSpec{values: values(1, 50, "c"), baseTs: 2000, pid: -1}.build(t))
	if off, ts, err := l2.MaxTimestamp(); err != nil || off != 4 || ts != 5030 {
		t.Fatalf("MaxTimestamp in compressed batch = %d, %d, %v; want 4, 5030", off, ts, err)
	}
	// Offsets below the log start are not returned.
	if _, err := l.DeleteRecordsBefore(4); err != nil {
		t.Fatal(err)
	}
	if off, ts, err := l.OffsetForTimestamp(0); err != nil || off != 4 || ts != 1990 {
		t.Fatalf("after DeleteRecordsBefore(4): %d, %d, %v; want 4, 1990", off, ts, err)
	}
	// An empty log has none.
	_, empty := openLog(t, ManagerConfig{}, cfg)
	if off, ts, err := empty.OffsetForTimestamp(0); off != -1 || ts != -1 || err != nil {
		t.Fatalf("empty log: %d %d %v", off, ts, err)
	}
	if off, ts, err := empty.MaxTimestamp(); off != -1 || ts != -1 || err != nil {
		t.Fatalf("empty log max: %d %d %v", off, ts, err)
	}
}

func TestSnappyXerialFraming(t *testing.T) {
	raw := []byte("hello hello hello hello snappy")
	block := snappyEncode(raw)
	framed := append([]byte{}, xerialHeader...)
	framed = append(framed, 0, 0, 0, 1, 0, 0, 0, 1)
	framed = append(framed, byte(len(block)>>24), byte(len(block)>>16), byte(len(block)>>8), byte(len(block)))
	framed = append(framed, block...)
	for name, in := range map[string][]byte{"raw": block, "xerial": framed} {
		out, err := decodeSnappy(in)
		if err != nil || string(out) != string(raw) {
			t.Fatalf("%s: %q %v", name, out, err)
		}
	}
}
