package broker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestProduceAndFetchWithEveryAcks(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 30*time.Second)
	if _, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "acks"); err != nil {
		t.Fatal(err)
	}
	ts := time.UnixMilli(1_700_000_000_123)
	var want []*kgo.Record
	for _, acks := range []kgo.Acks{kgo.NoAck(), kgo.LeaderAck(), kgo.AllISRAcks()} {
		opts := []kgo.Opt{kgo.RequiredAcks(acks)}
		if acks != kgo.AllISRAcks() {
			opts = append(opts, kgo.DisableIdempotentWrite())
		}
		cl := b.Client(opts...)
		for i := range 10 {
			r := &kgo.Record{
				Topic:     "acks",
				Key:       fmt.Appendf(nil, "key-%d", len(want)),
				Value:     fmt.Appendf(nil, "value-%d-%d", i, len(want)),
				Headers:   []kgo.RecordHeader{{Key: "h", Value: []byte("x")}},
				Timestamp: ts.Add(time.Duration(len(want)) * time.Millisecond),
			}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("acks %v: %v", acks, err)
			}
			want = append(want, r)
		}
	}
	got := consumeAll(t, b.Client(), "acks", len(want))
	for i, r := range got {
		w := want[i]
		if r.Offset != int64(i) || !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) || !r.Timestamp.Equal(w.Timestamp) ||
			len(r.Headers) != 1 || r.Headers[0].Key != "h" || string(r.Headers[0].Value) != "x" {
			t.Fatalf("record %d = %+v, want %+v", i, r, w)
		}
	}
}

func TestProduceKeepsCompression(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 30*time.Second)
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
		attr  int16
	}{
		{"gzip", kgo.GzipCompression(), 1},
		{"snappy", kgo.SnappyCompression(), 2},
		{"lz4", kgo.Lz4Compression(), 3},
		{"zstd", kgo.ZstdCompression(), 4},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			topic := "comp-" + c.name
			if _, err := b.Admin().CreateTopic(ctx, 1, 1, nil, topic); err != nil {
				t.Fatal(err)
			}
			cl := b.Client(kgo.ProducerBatchCompression(c.codec), kgo.ProducerLinger(50*time.Millisecond))
			var recs []*kgo.Record
			for i := range 50 {
				recs = append(recs, &kgo.Record{Topic: topic, Value: bytes.Repeat(fmt.Appendf(nil, "compressible %d ", i), 20)})
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			// Raw fetch: the stored batch carries the producer's codec.
			raw := fetchRaw(t, b, topic, 0, 0)
			if len(raw) < 61 {
				t.Fatalf("fetched %d bytes", len(raw))
			}
			attrs := int16(raw[21])<<8 | int16(raw[22])
			if attrs&7 != c.attr {
				t.Fatalf("stored codec %d, want %d", attrs&7, c.attr)
			}
			got := consumeAll(t, b.Client(), topic, 50)
			for i, r := range got {
				if !bytes.Equal(r.Value, recs[i].Value) {
					t.Fatalf("record %d differs", i)
				}
			}
		})
	}
}

// fetchRaw issues one Fetch and returns the partition's record bytes.
func fetchRaw(t *testing.T, b *samsatest.Broker, topic string, partition int32, offset int64) []byte {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.MaxWaitMillis = 100
	req.MaxBytes = 1 << 20
	td, err := b.Admin().ListTopics(samsatest.Context(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, td[topic].ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(samsatest.Context(t, 10*time.Second), b.Client())
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		t.Fatalf("fetch %s/%d@%d: %v", topic, partition, offset, err)
	}
	return p.RecordBatches
}

// rawProduce sends one Produce v9 with the given batch bytes.
func rawProduce(ctx context.Context, cl *kgo.Client, topic string, partition int32, batch []byte) (kmsg.ProduceResponseTopicPartition, error) {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return kmsg.ProduceResponseTopicPartition{}, err
	}
	return resp.Topics[0].Partitions[0], nil
}

// appendRecord encodes r with its length prefix filled in.
func appendRecord(dst []byte, r kmsg.Record) []byte {
	r.Length = 0
	body := r.AppendTo(nil)
	r.Length = int32(len(body) - 1) // a zero length is one varint byte
	return r.AppendTo(dst)
}

// makeBatch encodes a magic-2 batch of n small records with the producer
// fields given.
func makeBatch(pid int64, epoch int16, seq int32, n int) []byte {
	var recs []byte
	for i := range n {
		r := kmsg.NewRecord()
		r.OffsetDelta = int32(i)
		r.Value = fmt.Appendf(nil, "seq-%d", seq+int32(i))
		recs = appendRecord(recs, r)
	}
	batch := kmsg.NewRecordBatch()
	batch.Magic = 2
	batch.LastOffsetDelta = int32(n - 1)
	batch.FirstTimestamp = time.Now().UnixMilli()
	batch.MaxTimestamp = batch.FirstTimestamp
	batch.ProducerID, batch.ProducerEpoch, batch.FirstSequence = pid, epoch, seq
	batch.NumRecords = int32(n)
	batch.Records = recs
	raw := batch.AppendTo(nil)
	batch.Length = int32(len(raw) - 12)
	batch.CRC = int32(crc32c(raw[21:]))
	return batch.AppendTo(nil)
}

func TestIdempotentProduceDeduplicatesAndRejectsGaps(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	cl := b.Client()
	if _, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "idem"); err != nil {
		t.Fatal(err)
	}
	init, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || init.ErrorCode != 0 || init.ProducerID < 0 {
		t.Fatalf("init producer id: %v %+v", err, init)
	}
	pid := init.ProducerID
	first, err := rawProduce(ctx, cl, "idem", 0, makeBatch(pid, 0, 0, 3))
	if err != nil || first.ErrorCode != 0 || first.BaseOffset != 0 {
		t.Fatalf("first: %v %+v", err, first)
	}
	second, _ := rawProduce(ctx, cl, "idem", 0, makeBatch(pid, 0, 3, 2))
	if second.ErrorCode != 0 || second.BaseOffset != 3 {
		t.Fatalf("second: %+v", second)
	}
	// A retry of the first batch is answered with its original offset.
	dup, _ := rawProduce(ctx, cl, "idem", 0, makeBatch(pid, 0, 0, 3))
	if dup.ErrorCode != 0 || dup.BaseOffset != 0 {
		t.Fatalf("duplicate: %+v", dup)
	}
	// A gap is refused.
	gap, _ := rawProduce(ctx, cl, "idem", 0, makeBatch(pid, 0, 10, 1))
	if !errors.Is(kerr.ErrorForCode(gap.ErrorCode), kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("gap: %v", kerr.ErrorForCode(gap.ErrorCode))
	}
	ends, _ := b.Admin().ListEndOffsets(ctx, "idem")
	if o, _ := ends.Lookup("idem", 0); o.Offset != 5 {
		t.Fatalf("end offset %d, want 5 (no duplicate written)", o.Offset)
	}
	// Fresh producer ids differ.
	again, _ := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if again.ProducerID == pid {
		t.Fatal("producer id reused")
	}
}

func TestProduceRejectsCorruptBatch(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	cl := b.Client()
	if _, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "corrupt"); err != nil {
		t.Fatal(err)
	}
	batch := makeBatch(-1, -1, -1, 2)
	batch[len(batch)-1] ^= 0xff // breaks the CRC
	res, err := rawProduce(ctx, cl, "corrupt", 0, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(kerr.ErrorForCode(res.ErrorCode), kerr.CorruptMessage) || res.ErrorMessage == nil {
		t.Fatalf("got %v %v", kerr.ErrorForCode(res.ErrorCode), res.ErrorMessage)
	}
	ends, _ := b.Admin().ListEndOffsets(ctx, "corrupt")
	if o, _ := ends.Lookup("corrupt", 0); o.Offset != 0 {
		t.Fatalf("corrupt batch was written: end offset %d", o.Offset)
	}
	// Unknown partition.
	res, _ = rawProduce(ctx, cl, "corrupt", 7, makeBatch(-1, -1, -1, 1))
	if !errors.Is(kerr.ErrorForCode(res.ErrorCode), kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown partition: %v", kerr.ErrorForCode(res.ErrorCode))
	}
}

func TestProduceRejectsTooLargeBatch(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	cl := b.Client()
	if _, err := b.Admin().CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": kmsg.StringPtr("1000")}, "small"); err != nil {
		t.Fatal(err)
	}
	r := kmsg.NewRecord()
	r.Value = bytes.Repeat([]byte("x"), 2000)
	batch := kmsg.NewRecordBatch()
	batch.Magic, batch.NumRecords, batch.ProducerID, batch.ProducerEpoch, batch.FirstSequence = 2, 1, -1, -1, -1
	batch.Records = appendRecord(nil, r)
	raw := batch.AppendTo(nil)
	batch.Length = int32(len(raw) - 12)
	batch.CRC = int32(crc32c(raw[21:]))
	res, err := rawProduce(ctx, cl, "small", 0, batch.AppendTo(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(kerr.ErrorForCode(res.ErrorCode), kerr.MessageTooLarge) {
		t.Fatalf("got %v", kerr.ErrorForCode(res.ErrorCode))
	}
}

func TestOldClientsUseMessageSets(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 30*time.Second)
	if _, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "legacy"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		name     string
		versions *kversion.Versions
	}{
		{"0.8 magic 0", kversion.V0_8_2()},
		{"0.10 magic 1", kversion.V0_10_1()},
	} {
		t.Run(v.name, func(t *testing.T) {
			cl := b.Client(kgo.MaxVersions(v.versions), kgo.ProducerBatchCompression(kgo.GzipCompression()), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
			var recs []*kgo.Record
			for i := range 20 {
				recs = append(recs, &kgo.Record{Topic: "legacy", Key: fmt.Appendf(nil, "k%d", i), Value: bytes.Repeat(fmt.Appendf(nil, "old %d ", i), 10)})
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Every record is readable by an old and a new consumer, compressed as sent.
	raw := fetchRaw(t, b, "legacy", 0, 0)
	if attrs := int16(raw[21])<<8 | int16(raw[22]); attrs&7 != 1 {
		t.Fatalf("stored codec %d, want gzip (1)", attrs&7)
	}
	for _, vs := range []*kversion.Versions{kversion.V0_8_2(), kversion.V0_10_1(), kversion.Stable()} {
		got := consumeAll(t, b.Client(kgo.MaxVersions(vs)), "legacy", 40)
		for i, r := range got {
			if r.Offset != int64(i) || string(r.Key) != fmt.Sprintf("k%d", i%20) {
				t.Fatalf("record %d: offset %d key %q", i, r.Offset, r.Key)
			}
		}
	}
}
