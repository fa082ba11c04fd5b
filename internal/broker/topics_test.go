package broker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestMetadataListsBrokerAndClusterID(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	ctx := samsatest.Context(t, 10*time.Second)
	meta, err := adm.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 1 || meta.Brokers[0].NodeID != 1 || meta.Brokers[0].Host != "127.0.0.1" {
		t.Fatalf("brokers = %+v, want node 1 at 127.0.0.1", meta.Brokers)
	}
	if meta.Cluster == "" || meta.Controller != 1 {
		t.Fatalf("cluster %q controller %d", meta.Cluster, meta.Controller)
	}
}

func TestCreateTopicGetsDefaultPartitions(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	ctx := samsatest.Context(t, 10*time.Second)
	res, err := adm.CreateTopic(ctx, -1, -1, nil, "post.office")
	if err != nil || res.Err != nil {
		t.Fatalf("create: %v %v", err, res.Err)
	}
	if res.NumPartitions != 3 || res.ReplicationFactor != 1 || res.ID == (kadm.TopicID{}) {
		t.Fatalf("created %+v, want 3 partitions, RF 1 and an id", res)
	}
	td, err := adm.ListTopics(ctx, "post.office")
	if err != nil {
		t.Fatal(err)
	}
	d := td["post.office"]
	if d.Err != nil || len(d.Partitions) != 3 || d.ID != res.ID {
		t.Fatalf("described %+v", d)
	}
	for _, p := range d.Partitions {
		if p.Leader != 1 || len(p.Replicas) != 1 || len(p.ISR) != 1 {
			t.Fatalf("partition %+v", p)
		}
	}
}

func TestCreateTopicErrors(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	ctx := samsatest.Context(t, 10*time.Second)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "exists"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		topic   string
		parts   int32
		rf      int16
		configs map[string]*string
		want    error
		msg     string
	}{
		{"already exists", "exists", 1, 1, nil, kerr.TopicAlreadyExists, "already exists"},
		{"bad name", "no/slash", 1, 1, nil, kerr.InvalidTopicException, "illegal"},
		{"collides", "exists", 1, 1, nil, kerr.TopicAlreadyExists, ""},
		{"zero partitions", "zero", 0, 1, nil, kerr.InvalidPartitions, "partitions"},
		{"rf too large", "rf", 1, 3, nil, kerr.InvalidReplicationFactor, "larger than available brokers"},
		{"unknown config", "cfg", 1, 1, map[string]*string{"no.such": kadm.StringPtr("1")}, kerr.InvalidConfig, "unknown topic config"},
		{"bad config value", "cfg2", 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")}, kerr.InvalidConfig, "retention.ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := adm.CreateTopic(ctx, c.parts, c.rf, c.configs, c.topic)
			if err == nil {
				err = res.Err
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.msg != "" && !strings.Contains(res.ErrMessage, c.msg) {
				t.Fatalf("message %q does not mention %q", res.ErrMessage, c.msg)
			}
		})
	}
	// '.' and '_' collide.
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "a.b"); err != nil {
		t.Fatal(err)
	}
	res, _ := adm.CreateTopic(ctx, 1, 1, nil, "a_b")
	if !errors.Is(res.Err, kerr.InvalidTopicException) || !strings.Contains(res.ErrMessage, "collides") {
		t.Fatalf("a_b: %v %q", res.Err, res.ErrMessage)
	}
}

func TestDeleteTopicThenRecreateStartsEmpty(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	cl := b.Client()
	ctx := samsatest.Context(t, 20*time.Second)
	first, err := adm.CreateTopic(ctx, 1, 1, nil, "t")
	if err != nil {
		t.Fatal(err)
	}
	produceSync(t, cl, "t", 5)
	resp, err := adm.DeleteTopics(ctx, "t")
	if err != nil || resp["t"].Err != nil {
		t.Fatalf("delete: %v %+v", err, resp)
	}
	resp, _ = adm.DeleteTopics(ctx, "t")
	if !errors.Is(resp["t"].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("second delete: %v", resp["t"].Err)
	}
	second, err := adm.CreateTopic(ctx, 1, 1, nil, "t")
	if err != nil || second.Err != nil {
		t.Fatalf("recreate: %v %v", err, second.Err)
	}
	if second.ID == first.ID {
		t.Fatal("recreated topic kept the old topic id")
	}
	ends, err := adm.ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("t", 0); o.Offset != 0 {
		t.Fatalf("recreated topic end offset %d, want 0", o.Offset)
	}
}

func TestCreatePartitionsOnlyIncreases(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	ctx := samsatest.Context(t, 10*time.Second)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "post.office"); err != nil {
		t.Fatal(err)
	}
	res, err := adm.UpdatePartitions(ctx, 5, "post.office")
	if err != nil || res["post.office"].Err != nil {
		t.Fatalf("increase: %v %+v", err, res)
	}
	res, err = adm.UpdatePartitions(ctx, 3, "post.office")
	if err != nil {
		t.Fatal(err)
	}
	r := res["post.office"]
	if !errors.Is(r.Err, kerr.InvalidPartitions) || r.ErrMessage != "The topic post.office currently has 5 partition(s); 3 would not be an increase." {
		t.Fatalf("decrease: %v %q", r.Err, r.ErrMessage)
	}
	td, _ := adm.ListTopics(ctx, "post.office")
	if n := len(td["post.office"].Partitions); n != 5 {
		t.Fatalf("partitions = %d, want 5", n)
	}
	// The new partitions take records.
	cl := manualClient(b)
	rec := produceOne(t, cl, "post.office", 4, "k", "v")
	if rec.Partition != 4 {
		t.Fatalf("produced to %d", rec.Partition)
	}
	res, _ = adm.UpdatePartitions(ctx, 2, "missing")
	if !errors.Is(res["missing"].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown topic: %v", res["missing"].Err)
	}
}

func TestMetadataAutoCreatesTopic(t *testing.T) {
	b := samsatest.Start(t)
	cl := b.Client(samsatestAllowAutoCreate())
	rec := produceOne(t, cl, "auto", -1, "", "hello")
	adm := b.Admin()
	td, err := adm.ListTopics(samsatest.Context(t, 5*time.Second), "auto")
	if err != nil {
		t.Fatal(err)
	}
	if len(td["auto"].Partitions) != 3 || rec.Offset != 0 {
		t.Fatalf("auto topic %+v, record %+v", td["auto"], rec)
	}
}

func TestMetadataByTopicIDAndUnknown(t *testing.T) {
	b := samsatest.Start(t)
	adm := b.Admin()
	ctx := samsatest.Context(t, 10*time.Second)
	created, err := adm.CreateTopic(ctx, 2, 1, nil, "byid")
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.TopicID = created.ID
	req.Topics = append(req.Topics, rt)
	unknown := kmsg.NewMetadataRequestTopic()
	unknown.Topic = kmsg.StringPtr("nope")
	req.Topics = append(req.Topics, unknown)
	resp, err := req.RequestWith(ctx, b.Client())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 2 {
		t.Fatalf("topics: %+v", resp.Topics)
	}
	if resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "byid" || len(resp.Topics[0].Partitions) != 2 {
		t.Fatalf("by id: %+v", resp.Topics[0])
	}
	if resp.Topics[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic code %d", resp.Topics[1].ErrorCode)
	}
}

func TestTopicsAndRecordsSurviveRestart(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	created, err := b.Admin().CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": kadm.StringPtr("123456789")}, "durable")
	if err != nil {
		t.Fatal(err)
	}
	produceSync(t, b.Client(), "durable", 20)
	b2 := b.Restart()
	adm := b2.Admin()
	td, err := adm.ListTopics(ctx, "durable")
	if err != nil {
		t.Fatal(err)
	}
	if td["durable"].ID != created.ID || len(td["durable"].Partitions) != 2 {
		t.Fatalf("after restart: %+v", td["durable"])
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "durable")
	if err != nil {
		t.Fatal(err)
	}
	v, err := rc.On("durable", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range v.Configs {
		if c.Key == "retention.ms" && c.MaybeValue() == "123456789" {
			found = true
		}
	}
	if !found {
		t.Fatal("retention.ms override lost on restart")
	}
	got := consumeAll(t, b2.Client(), "durable", 20)
	if len(got) != 20 {
		t.Fatalf("after restart consumed %d records, want 20", len(got))
	}
}

func TestRestartRemovesLogsOfTopicsThatNoLongerExist(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	if _, err := b.Admin().CreateTopic(ctx, 1, 1, nil, "kept"); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	// A directory the metadata does not know, as a crash between a topic's
	// deletion and the removal of its files leaves behind.
	orphan := filepath.Join(b.DataDir, "topics", "gone-0")
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	b2 := samsatest.StartWith(t, b.Config)
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan log directory still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(b2.DataDir, "topics", "kept-0")); err != nil {
		t.Fatalf("live topic's directory: %v", err)
	}
}

func TestSecondBrokerOnOneDataDirIsRefused(t *testing.T) {
	b := samsatest.Start(t)
	_, err := broker.Open(context.Background(), b.Config)
	if err == nil || !strings.Contains(err.Error(), "in use by another samsa process") {
		t.Fatalf("second open: %v", err)
	}
}

func TestInternalTopicCannotBeCreatedOrDeletedByClients(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	res, _ := adm.CreateTopic(ctx, 1, 1, nil, "__consumer_offsets")
	if !errors.Is(res.Err, kerr.InvalidRequest) {
		t.Fatalf("create internal topic: %v", res.Err)
	}
	// A group lookup creates it, internal.
	if _, err := adm.FetchOffsets(ctx, "some-group"); err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	td, err := adm.ListTopicsWithInternal(ctx, "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	if d := td["__consumer_offsets"]; !d.IsInternal || len(d.Partitions) == 0 {
		t.Fatalf("offsets topic: %+v", d)
	}
	del, _ := adm.DeleteTopics(ctx, "__consumer_offsets")
	if !errors.Is(del["__consumer_offsets"].Err, kerr.InvalidRequest) {
		t.Fatalf("delete internal topic: %v", del["__consumer_offsets"].Err)
	}
	// Producing to it is refused too.
	err = b.Client().ProduceSync(ctx, &kgo.Record{Topic: "__consumer_offsets", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.InvalidTopicException) {
		t.Fatalf("produce to internal topic: %v", err)
	}
}
