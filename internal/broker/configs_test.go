package broker_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func configOf(t *testing.T, rcs kadm.ResourceConfigs, name, key string) kadm.Config {
	t.Helper()
	rc, err := rcs.On(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("%s has no config %s", name, key)
	return kadm.Config{}
}

func TestDescribeAndAlterTopicConfigs(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "cfg"); err != nil {
		t.Fatal(err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if c := configOf(t, rcs, "cfg", "retention.ms"); c.MaybeValue() != "604800000" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("retention.ms default: %+v", c)
	}
	if c := configOf(t, rcs, "cfg", "cleanup.policy"); c.MaybeValue() != "delete" {
		t.Fatalf("cleanup.policy: %+v", c)
	}
	alter := []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1000")},
		{Op: kadm.SetConfig, Name: "message.timestamp.type", Value: kadm.StringPtr("LogAppendTime")},
	}
	res, err := adm.AlterTopicConfigs(ctx, alter, "cfg")
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, res)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "cfg")
	if c := configOf(t, rcs, "cfg", "retention.ms"); c.MaybeValue() != "1000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("after alter: %+v", c)
	}
	// Synonyms, most specific first, each under its own level's name (as
	// Kafka's kafka-configs prints them).
	var syn []string
	for _, s := range configOf(t, rcs, "cfg", "retention.ms").Synonyms {
		syn = append(syn, fmt.Sprintf("%s:%s=%s", s.Source, s.Key, *s.Value))
	}
	if got, want := strings.Join(syn, ", "), "DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.ms=604800000"; got != want {
		t.Errorf("synonyms of retention.ms: %s, want %s", got, want)
	}
	// LogAppendTime is applied by the log.
	rec := produceOne(t, b.Client(), "cfg", -1, "", "x")
	got := consumeAll(t, b.Client(), "cfg", 1)
	if d := got[0].Timestamp.Sub(rec.Timestamp); d < 0 || d > time.Minute || got[0].Attrs.TimestampType() != 1 {
		t.Fatalf("LogAppendTime not applied: produced %v, stored %v (type %d)", rec.Timestamp, got[0].Timestamp, got[0].Attrs.TimestampType())
	}
	// Delete the override: back to the default.
	res, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "retention.ms"}}, "cfg")
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "cfg")
	if c := configOf(t, rcs, "cfg", "retention.ms"); c.MaybeValue() != "604800000" {
		t.Fatalf("after delete: %+v", c)
	}
	// Append to a list config.
	res, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact")}}, "cfg")
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "cfg")
	if c := configOf(t, rcs, "cfg", "cleanup.policy"); c.MaybeValue() != "delete,compact" {
		t.Fatalf("append: %+v", c)
	}
	// Errors.
	res, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("-7")}}, "cfg")
	if !errors.Is(res[0].Err, kerr.InvalidConfig) {
		t.Fatalf("bad value: %v", res[0].Err)
	}
	res, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("1")}}, "missing")
	if !errors.Is(res[0].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown topic: %v", res[0].Err)
	}
	// Legacy AlterConfigs replaces every override.
	lres, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: kadm.StringPtr("1048576")}}, "cfg")
	if err != nil || lres[0].Err != nil {
		t.Fatalf("legacy alter: %v %+v", err, lres)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "cfg")
	if c := configOf(t, rcs, "cfg", "message.timestamp.type"); c.MaybeValue() != "CreateTime" {
		t.Fatalf("legacy alter kept an old override: %+v", c)
	}
	if c := configOf(t, rcs, "cfg", "segment.bytes"); c.MaybeValue() != "1048576" {
		t.Fatalf("segment.bytes: %+v", c)
	}
}

func TestDescribeAndAlterBrokerConfigs(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	rcs, err := adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := configOf(t, rcs, "1", "num.partitions"); c.MaybeValue() != "3" {
		t.Fatalf("num.partitions: %+v", c)
	}
	res, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.ms", Value: kadm.StringPtr("5000")}}, 1)
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter broker: %v %+v", err, res)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "inherits"); err != nil {
		t.Fatal(err)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "inherits")
	if c := configOf(t, rcs, "inherits", "retention.ms"); c.MaybeValue() != "5000" || c.Source != kmsg.ConfigSourceDynamicBrokerConfig {
		t.Fatalf("topic does not inherit the broker's dynamic retention: %+v", c)
	}
	res, _ = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "num.partitions", Value: kadm.StringPtr("7")}}, 1)
	if !errors.Is(res[0].Err, kerr.InvalidRequest) {
		t.Fatalf("read-only broker config: %v", res[0].Err)
	}
}

func TestDescribeClusterAndLogDirs(t *testing.T) {
	b := samsatest.Start(t)
	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "dirs"); err != nil {
		t.Fatal(err)
	}
	produceSync(t, b.Client(), "dirs", 10)
	dc, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, b.Client())
	if err != nil || dc.ErrorCode != 0 || len(dc.Brokers) != 1 || dc.ControllerID != 1 || dc.ClusterID == "" {
		t.Fatalf("describe cluster: %v %+v", err, dc)
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			if p.Topic == "dirs" {
				size += p.Size
			}
		})
	})
	if size <= 0 {
		t.Fatalf("log dir size for topic dirs = %d", size)
	}
}
