package storage

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func TestParseBatchHeader(t *testing.T) {
	good := batchSpec{values: values(3, 10, "v"), baseTs: 1234, pid: 42, epoch: 3, seq: 7, attrs: AttrTransactional}.build(t)
	h, err := ParseBatchHeader(good)
	if err != nil {
		t.Fatal(err)
	}
	want := BatchHeader{
		BaseOffset: 0, BatchLength: int32(len(good) - 12), PartitionLeaderEpoch: -1, Magic: 2,
		CRC: binary.BigEndian.Uint32(good[17:]), Attributes: AttrTransactional, LastOffsetDelta: 2,
		BaseTimestamp: 1234, MaxTimestamp: 1236, ProducerID: 42, ProducerEpoch: 3, BaseSequence: 7, NumRecords: 3,
	}
	if h != want {
		t.Fatalf("header\n got %+v\nwant %+v", h, want)
	}
	if h.Size() != len(good) || h.LastOffset() != 2 || h.LastSequence() != 9 || !h.IsTransactional() || h.IsControl() || h.IsLogAppendTime() {
		t.Fatalf("derived fields wrong: %+v", h)
	}
	wrongMagic := slices.Clone(good)
	wrongMagic[offMagic] = 1
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"short", good[:60], ErrCorruptMessage},
		{"empty", nil, ErrCorruptMessage},
		{"magic 1", wrongMagic, ErrInvalidRecord},
	} {
		if _, err := ParseBatchHeader(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestLastSequenceWraps(t *testing.T) {
	h := BatchHeader{BaseSequence: maxInt32 - 1, LastOffsetDelta: 3}
	if got := h.LastSequence(); got != 1 {
		t.Fatalf("last sequence %d, want 1", got)
	}
	if got := addSequence(maxInt32, 1); got != 0 {
		t.Fatalf("MaxInt32+1 = %d, want 0", got)
	}
}

// recrc fixes the CRC after a test edits a batch.
func recrc(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], batchCRC(b))
	return b
}

func TestValidateBatches(t *testing.T) {
	one := simple(t, 3, 20, "a", 1000)
	two := append(slices.Clone(one), simple(t, 2, 20, "b", 1000)...)
	gz := batchSpec{values: values(5, 100, "g"), pid: -1, codec: CompressionGzip}.build(t)
	edit := func(b []byte, f func([]byte)) []byte {
		b = slices.Clone(b)
		f(b)
		return b
	}
	for _, tc := range []struct {
		name             string
		in               []byte
		max              int
		batches, records int
		want             error
	}{
		{name: "good", in: one, max: 1 << 20, batches: 1, records: 3},
		{name: "two batches", in: two, max: 1 << 20, batches: 2, records: 5},
		{name: "compressed", in: gz, max: 1 << 20, batches: 1, records: 5},
		{name: "no limit", in: one, max: -1, batches: 1, records: 3},
		{name: "exactly max", in: one, max: len(one), batches: 1, records: 3},
		{name: "empty", in: nil, max: 1 << 20, want: ErrCorruptMessage},
		{name: "bad crc", in: edit(one, func(b []byte) { b[len(b)-1] ^= 1 }), max: 1 << 20, want: ErrCorruptMessage},
		{name: "truncated", in: one[:len(one)-1], max: 1 << 20, want: ErrCorruptMessage},
		{name: "truncated header", in: one[:40], max: 1 << 20, want: ErrCorruptMessage},
		{name: "second truncated", in: two[:len(two)-5], max: 1 << 20, want: ErrCorruptMessage},
		{name: "trailing bytes", in: append(slices.Clone(one), 0, 0, 0), max: 1 << 20, want: ErrCorruptMessage},
		{name: "length too small", in: edit(one, func(b []byte) { binary.BigEndian.PutUint32(b[offBatchLength:], 10) }), max: 1 << 20, want: ErrCorruptMessage},
		{name: "negative length", in: edit(one, func(b []byte) { binary.BigEndian.PutUint32(b[offBatchLength:], 0xffffffff) }), max: 1 << 20, want: ErrCorruptMessage},
		{name: "wrong magic", in: edit(one, func(b []byte) { b[offMagic] = 1 }), max: 1 << 20, want: ErrInvalidRecord},
		{name: "count mismatch", in: edit(one, func(b []byte) { binary.BigEndian.PutUint32(b[offRecordCount:], 4); recrc(b) }), max: 1 << 20, want: ErrInvalidRecord},
		{name: "zero records", in: edit(one, func(b []byte) {
			binary.BigEndian.PutUint32(b[offRecordCount:], 0)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 0xffffffff)
			recrc(b)
		}), max: 1 << 20, want: ErrInvalidRecord},
		{name: "delta mismatch", in: edit(one, func(b []byte) { binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 1); recrc(b) }), max: 1 << 20, want: ErrInvalidRecord},
		{name: "bad record framing", in: edit(one, func(b []byte) { b[BatchHeaderSize] = 0x7e; recrc(b) }), max: 1 << 20, want: ErrInvalidRecord},
		{name: "unknown codec", in: edit(one, func(b []byte) { b[offAttributes+1] |= 7; recrc(b) }), max: 1 << 20, want: ErrCorruptMessage},
		{name: "too large", in: one, max: len(one) - 1, want: ErrMessageTooLarge},
		{name: "second too large", in: append(simple(t, 1, 10, "s", 0), simple(t, 1, 500, "l", 0)...), max: 300, want: ErrMessageTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, r, err := ValidateBatches(tc.in, tc.max)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || b != tc.batches || r != tc.records {
				t.Fatalf("got (%d, %d, %v), want (%d, %d, nil)", b, r, err, tc.batches, tc.records)
			}
		})
	}
}

func TestValidateBatchesDoesNotAllocate(t *testing.T) {
	b := append(simple(t, 16, 1000, "x", 0), simple(t, 16, 1000, "y", 0)...)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := ValidateBatches(b, 1<<20); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

func TestSetLogAppendTimeKeepsBatchValid(t *testing.T) {
	b := batchSpec{values: values(2, 10, "v"), baseTs: 5, pid: -1, attrs: AttrTransactional}.build(t)
	setLogAppendTime(b, 999)
	h, _ := ParseBatchHeader(b)
	if !h.IsLogAppendTime() || !h.IsTransactional() || h.MaxTimestamp != 999 || h.BaseTimestamp != 5 {
		t.Fatalf("header after LogAppendTime: %+v", h)
	}
	if _, _, err := ValidateBatches(b, -1); err != nil {
		t.Fatalf("batch invalid after LogAppendTime: %v", err)
	}
}
