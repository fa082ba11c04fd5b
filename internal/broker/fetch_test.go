package broker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestFetchWaitsForDataThenReturnsIt(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 30*time.Second)
	created, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "poll")
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 20000
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = "poll", created.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	type result struct {
		resp *kmsg.FetchResponse
		err  error
	}
	done := make(chan result, 1)
	fetcher := b.Client()
	go func() {
		resp, err := req.RequestWith(ctx, fetcher)
		done <- result{resp, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("fetch returned before any data: %+v %v", r.resp, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	produceOne(t, b.Client(), "poll", -1, "", "wake up")
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("long-polling fetch did not return after a produce")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	p := r.resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || len(p.RecordBatches) == 0 || p.HighWatermark != 1 {
		t.Fatalf("partition %+v", p)
	}
}

func TestFetchOutOfRangeAndTopicID(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	created, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "range")
	if err != nil {
		t.Fatal(err)
	}
	produceSync(t, b.Client(), "range", 3)
	req := kmsg.NewPtrFetchRequest()
	req.Version = 13
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.TopicID = created.ID
	for _, off := range []int64{1, 50} {
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes = off, 1<<20
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	unknown := kmsg.NewFetchRequestTopic()
	unknown.TopicID = [16]byte{1, 2, 3}
	unknown.Partitions = []kmsg.FetchRequestTopicPartition{kmsg.NewFetchRequestTopicPartition()}
	req.Topics = append(req.Topics, unknown)
	resp, err := req.RequestWith(ctx, b.Client())
	if err != nil {
		t.Fatal(err)
	}
	ok, oor := resp.Topics[0].Partitions[0], resp.Topics[0].Partitions[1]
	if ok.ErrorCode != 0 || len(ok.RecordBatches) == 0 || ok.HighWatermark != 3 || ok.LogStartOffset != 0 {
		t.Fatalf("in range: %+v", ok)
	}
	if !errors.Is(kerr.ErrorForCode(oor.ErrorCode), kerr.OffsetOutOfRange) {
		t.Fatalf("offset 50: %v", kerr.ErrorForCode(oor.ErrorCode))
	}
	if !errors.Is(kerr.ErrorForCode(resp.Topics[1].Partitions[0].ErrorCode), kerr.UnknownTopicID) {
		t.Fatalf("unknown id: %v", kerr.ErrorForCode(resp.Topics[1].Partitions[0].ErrorCode))
	}
}

func TestFetchSessionsAreDeclined(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	req := kmsg.NewPtrFetchRequest()
	req.SessionID, req.SessionEpoch = 42, 1
	resp, err := req.RequestWith(ctx, b.Client())
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(kerr.ErrorForCode(resp.ErrorCode), kerr.FetchSessionIDNotFound) {
		t.Fatalf("got %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

func TestListOffsetsEarliestLatestAndByTime(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "lo"); err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(1_600_000_000_000)
	cl := b.Client(kgo.ProducerLinger(0))
	for i := range 10 {
		r := &kgo.Record{Topic: "lo", Value: []byte("x"), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	start, _ := adm.ListStartOffsets(ctx, "lo")
	end, _ := adm.ListEndOffsets(ctx, "lo")
	if o, _ := start.Lookup("lo", 0); o.Offset != 0 {
		t.Fatalf("start %d", o.Offset)
	}
	if o, _ := end.Lookup("lo", 0); o.Offset != 10 {
		t.Fatalf("end %d", o.Offset)
	}
	at, err := adm.ListOffsetsAfterMilli(ctx, base.Add(4500*time.Millisecond).UnixMilli(), "lo")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := at.Lookup("lo", 0); o.Offset != 5 || o.Timestamp != base.Add(5*time.Second).UnixMilli() {
		t.Fatalf("by time: offset %d ts %d", o.Offset, o.Timestamp)
	}
	// Max timestamp (-3).
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "lo"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -3
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	mp := resp.Topics[0].Partitions[0]
	if mp.ErrorCode != 0 || mp.Offset != 9 || mp.Timestamp != base.Add(9*time.Second).UnixMilli() {
		t.Fatalf("max timestamp: %+v", mp)
	}
	// After every record: none.
	after, _ := adm.ListOffsetsAfterMilli(ctx, base.Add(time.Hour).UnixMilli(), "lo")
	if o, _ := after.Lookup("lo", 0); o.Offset != -1 && o.Offset != 10 {
		t.Fatalf("after all: %d", o.Offset)
	}
}

func TestDeleteRecordsMovesLogStart(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "dr"); err != nil {
		t.Fatal(err)
	}
	produceSync(t, b.Client(), "dr", 10)
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "dr", Partition: 0, At: 4})
	res, err := adm.DeleteRecords(ctx, os)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := res.Lookup("dr", 0)
	if r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete records: %+v", r)
	}
	start, _ := adm.ListStartOffsets(ctx, "dr")
	if o, _ := start.Lookup("dr", 0); o.Offset != 4 {
		t.Fatalf("log start %d, want 4", o.Offset)
	}
	got := consumeAll(t, b.Client(), "dr", 6)
	if got[0].Offset != 4 {
		t.Fatalf("first consumed offset %d, want 4", got[0].Offset)
	}
	os = kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "dr", Partition: 0, At: 99})
	res, _ = adm.DeleteRecords(ctx, os)
	if r, _ := res.Lookup("dr", 0); !errors.Is(r.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("beyond hwm: %v", r.Err)
	}
	// Survives restart.
	b2 := b.Restart()
	start, _ = b2.Admin().ListStartOffsets(ctx, "dr")
	if o, _ := start.Lookup("dr", 0); o.Offset != 4 {
		t.Fatalf("log start after restart %d, want 4", o.Offset)
	}
}
