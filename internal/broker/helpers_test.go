package broker_test

import (
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func samsatestAllowAutoCreate() kgo.Opt { return kgo.AllowAutoTopicCreation() }

// produceSync produces n records "v0".."v(n-1)" with keys "k0".. and waits for
// every ack.
func produceSync(t *testing.T, cl *kgo.Client, topic string, n int) []*kgo.Record {
	t.Helper()
	ctx := samsatest.Context(t, 20*time.Second)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	return recs
}

// produceOne produces one record to a partition (-1: let the partitioner
// choose) and returns it with its offset.
func produceOne(t *testing.T, cl *kgo.Client, topic string, partition int32, key, value string) *kgo.Record {
	t.Helper()
	ctx := samsatest.Context(t, 20*time.Second)
	r := &kgo.Record{Topic: topic, Value: []byte(value)}
	if key != "" {
		r.Key = []byte(key)
	}
	if partition >= 0 {
		r.Partition = partition // needs a client from manualClient
	}
	res := cl.ProduceSync(ctx, r)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return res[0].Record
}

// manualClient returns a client whose records go to the partition they name.
func manualClient(b *samsatest.Broker, opts ...kgo.Opt) *kgo.Client {
	return b.Client(append([]kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
}

// consumeAll reads n records of topic from the start of every partition.
func consumeAll(t *testing.T, cl *kgo.Client, topic string, n int) []*kgo.Record {
	t.Helper()
	cl.AddConsumeTopics(topic)
	ctx := samsatest.Context(t, 20*time.Second)
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", len(got), n)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		got = append(got, fs.Records()...)
	}
	return got
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
