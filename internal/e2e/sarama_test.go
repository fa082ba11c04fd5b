package e2e

// Cross-client tests with IBM/sarama, the other widely used Go client. Sarama
// picks every request version from config.Version instead of asking the
// broker, so each test runs once per Kafka version in saramaVersions: 0.10.2
// sends the old magic-1 message sets (Produce v2, Fetch v3, no headers), 2.1
// sends record batches and allows zstd, 3.6 sends the flexible versions.
// Consumer groups are not served yet: records are read back with partition
// consumers (ConsumePartition).

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// saramaVersions are the Kafka versions sarama is told it talks to.
var saramaVersions = []struct {
	name    string
	version sarama.KafkaVersion
	// headers: record headers exist (magic 2, Kafka 0.11+).
	headers bool
	// defaults: CreateTopics v4+ (Kafka 2.4+), which may leave the
	// partition count and replication factor to the broker.
	defaults bool
	// zstd: sarama allows zstd from Kafka 2.1 (Produce v7).
	zstd bool
	// idempotent: Kafka 0.11+ has producer IDs.
	idempotent bool
	// admin: DescribeConfigs, AlterConfigs, DeleteRecords (Kafka 0.11+)
	// and CreatePartitions (1.0+) exist; sarama refuses to send them to an
	// older version (ErrUnsupportedVersion without asking the broker), and
	// its ListTopics needs DescribeConfigs.
	admin bool
}{
	{"v0.10.2", sarama.V0_10_2_0, false, false, false, false, false},
	{"v2.1.0", sarama.V2_1_0_0, true, false, true, true, true},
	{"v3.6.0", sarama.V3_6_0_0, true, true, true, true, true},
}

// saramaTimeout bounds every sarama network call and every wait for
// consumed messages.
const saramaTimeout = 20 * time.Second

// saramaConfig is a sarama configuration for version v with short backoffs
// (so a retry does not eat the test's time) and producer successes on (a
// SyncProducer needs them).
func saramaConfig(v sarama.KafkaVersion) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = v
	cfg.ClientID = "samsa-e2e-sarama"
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = saramaTimeout
	cfg.Net.WriteTimeout = saramaTimeout
	cfg.Metadata.Retry.Backoff = 20 * time.Millisecond
	cfg.Metadata.AllowAutoTopicCreation = false
	cfg.Admin.Timeout = 10 * time.Second
	cfg.Admin.Retry.Backoff = 20 * time.Millisecond
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Backoff = 20 * time.Millisecond
	cfg.Consumer.Return.Errors = true
	// A partition consumer's Close waits for its fetch in flight, which the
	// broker parks for up to MaxWaitTime once the partition is read up.
	cfg.Consumer.MaxWaitTime = 50 * time.Millisecond
	return cfg
}

// newSaramaClient connects a sarama client to addr, closed at cleanup.
func newSaramaClient(t *testing.T, addr string, cfg *sarama.Config) sarama.Client {
	t.Helper()
	c, err := sarama.NewClient([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama client for %s (version %s): %v", addr, cfg.Version, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newSaramaAdmin returns a cluster admin on client; closing it (at cleanup)
// closes the client too, which sarama tolerates twice.
func newSaramaAdmin(t *testing.T, client sarama.Client) sarama.ClusterAdmin {
	t.Helper()
	adm, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatalf("sarama cluster admin: %v", err)
	}
	return adm
}

// saramaCreateTopic creates a topic with n partitions and replication
// factor 1 through sarama.
func saramaCreateTopic(t *testing.T, adm sarama.ClusterAdmin, topic string, n int32) {
	t.Helper()
	if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: n, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("sarama CreateTopic %s with %d partitions: %v", topic, n, err)
	}
}

func TestSaramaClusterAdmin(t *testing.T) {
	for _, v := range saramaVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := samsatest.Start(t)
			adm := newSaramaAdmin(t, newSaramaClient(t, b.Addr, saramaConfig(v.version)))

			// Create: explicit partitions, a config override, validate-only,
			// and (CreateTopics v4+) the broker's defaults.
			saramaCreateTopic(t, adm, "s-three", 3)
			compact := "compact"
			if err := adm.CreateTopic("s-compact", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1,
				ConfigEntries: map[string]*string{"cleanup.policy": &compact}}, false); err != nil {
				t.Fatalf("CreateTopic s-compact with cleanup.policy=compact: %v", err)
			}
			if err := adm.CreateTopic("s-validated", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, true); err != nil {
				t.Fatalf("CreateTopic s-validated validateOnly: %v", err)
			}
			wantParts := map[string]int32{"s-three": 3, "s-compact": 1}
			if v.defaults {
				if err := adm.CreateTopic("s-default", &sarama.TopicDetail{NumPartitions: -1, ReplicationFactor: -1}, false); err != nil {
					t.Fatalf("CreateTopic s-default with partitions and replication factor -1: %v", err)
				}
				wantParts["s-default"] = b.Config.DefaultPartitions
			}
			err := adm.CreateTopic("s-three", &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false)
			if !errors.Is(err, sarama.ErrTopicAlreadyExists) {
				t.Errorf("creating s-three twice: %v, want %v", err, sarama.ErrTopicAlreadyExists)
			}
			if err := adm.CreateTopic("s-zero", &sarama.TopicDetail{NumPartitions: 0, ReplicationFactor: 1}, false); !errors.Is(err, sarama.ErrInvalidPartitions) {
				t.Errorf("CreateTopic with 0 partitions: %v, want %v", err, sarama.ErrInvalidPartitions)
			}

			topics := listSaramaTopics(t, adm, v.admin)
			for name, n := range wantParts {
				d, ok := topics[name]
				if !ok || d.NumPartitions != n || d.ReplicationFactor != 1 || len(d.ReplicaAssignment) != int(n) {
					t.Errorf("list topics: %s = %+v (present %v), want %d partitions, replication factor 1", name, d, ok, n)
				}
			}
			for _, gone := range []string{"s-validated", "s-zero"} {
				if _, ok := topics[gone]; ok {
					t.Errorf("list topics: %s is listed but must not have been created", gone)
				}
			}
			if v.admin {
				// ListTopics keeps the configs that are not defaults: the override.
				if c := topics["s-compact"].ConfigEntries["cleanup.policy"]; c == nil || *c != "compact" {
					t.Errorf("ListTopics s-compact cleanup.policy = %v, want compact", deref(c))
				}
				if c, ok := topics["s-three"].ConfigEntries["cleanup.policy"]; ok {
					t.Errorf("ListTopics s-three has cleanup.policy %q among its non-default configs", deref(c))
				}
			}

			md, err := adm.DescribeTopics([]string{"s-three", "s-missing"})
			if err != nil {
				t.Fatalf("DescribeTopics: %v", err)
			}
			checkSaramaTopic(t, "DescribeTopics", md, "s-three", 3)
			if v.admin {
				// Metadata v4+ carries allow_auto_topic_creation, which sarama's
				// admin leaves false.
				if tm := findSaramaTopic(md, "s-missing"); tm == nil || !errors.Is(tm.Err, sarama.ErrUnknownTopicOrPartition) {
					t.Errorf("DescribeTopics s-missing = %+v, want %v", tm, sarama.ErrUnknownTopicOrPartition)
				}
			} else {
				// Metadata v0-v3 always asks for auto-creation, and it is on.
				checkSaramaTopic(t, "DescribeTopics of a missing topic with Metadata v2 (auto-created)", md, "s-missing", int(b.Config.DefaultPartitions))
			}

			wantThree := int32(3)
			if v.admin {
				wantThree = 5
				checkSaramaPartitionsAndConfigs(t, adm)
			}

			if err := adm.DeleteTopic("s-compact"); err != nil {
				t.Errorf("DeleteTopic s-compact: %v", err)
			}
			if err := adm.DeleteTopic("s-never"); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				t.Errorf("DeleteTopic of an unknown topic: %v, want %v", err, sarama.ErrUnknownTopicOrPartition)
			}
			topics = listSaramaTopics(t, adm, v.admin)
			if _, ok := topics["s-compact"]; ok {
				t.Errorf("s-compact still listed after DeleteTopic")
			}
			if d := topics["s-three"]; d.NumPartitions != wantThree {
				t.Errorf("list topics after DeleteTopic: s-three has %d partitions, want %d", d.NumPartitions, wantThree)
			}
		})
	}
}

// checkSaramaPartitionsAndConfigs runs CreatePartitions, DescribeConfigs and
// AlterConfig against the topics s-three (3 partitions, no overrides) and
// s-compact (cleanup.policy=compact); s-three ends with 5 partitions.
func checkSaramaPartitionsAndConfigs(t *testing.T, adm sarama.ClusterAdmin) {
	t.Helper()
	// CreatePartitions: an increase works, a decrease is refused with
	// Kafka's message.
	if err := adm.CreatePartitions("s-three", 5, nil, false); err != nil {
		t.Errorf("CreatePartitions s-three 3->5: %v", err)
	}
	err := adm.CreatePartitions("s-three", 2, nil, false)
	var tpe *sarama.TopicPartitionError
	if !errors.As(err, &tpe) || !errors.Is(tpe.Err, sarama.ErrInvalidPartitions) || tpe.ErrMsg == nil ||
		!strings.HasSuffix(*tpe.ErrMsg, "would not be an increase.") {
		t.Errorf("CreatePartitions s-three 5->2: %v, want INVALID_PARTITIONS \"... would not be an increase.\"", err)
	}
	md, err := adm.DescribeTopics([]string{"s-three"})
	if err != nil {
		t.Fatalf("DescribeTopics after CreatePartitions: %v", err)
	}
	checkSaramaTopic(t, "DescribeTopics after CreatePartitions", md, "s-three", 5)

	// Configs: describe, alter (replacing the overrides), describe.
	three := sarama.ConfigResource{Type: sarama.TopicResource, Name: "s-three"}
	before := describeSaramaConfig(t, adm, three)
	checkSaramaConfig(t, "s-three before AlterConfig", before, "retention.ms", "604800000", false)
	checkSaramaConfig(t, "s-three before AlterConfig", before, "cleanup.policy", "delete", false)
	checkSaramaConfig(t, "s-compact", describeSaramaConfig(t, adm, sarama.ConfigResource{Type: sarama.TopicResource, Name: "s-compact"}),
		"cleanup.policy", "compact", true)
	hour, maxBytes := "3600000", "65536"
	if err := adm.AlterConfig(sarama.TopicResource, "s-three", map[string]*string{"retention.ms": &hour, "max.message.bytes": &maxBytes}, false); err != nil {
		t.Errorf("AlterConfig s-three: %v", err)
	}
	after := describeSaramaConfig(t, adm, three)
	checkSaramaConfig(t, "s-three after AlterConfig", after, "retention.ms", "3600000", true)
	checkSaramaConfig(t, "s-three after AlterConfig", after, "max.message.bytes", "65536", true)
	checkSaramaConfig(t, "s-three after AlterConfig", after, "cleanup.policy", "delete", false)
	bad := "not-a-number"
	err = adm.AlterConfig(sarama.TopicResource, "s-three", map[string]*string{"retention.ms": &bad}, false)
	var ace *sarama.AlterConfigError
	if !errors.As(err, &ace) || !errors.Is(ace.Err, sarama.ErrInvalidConfig) {
		t.Errorf("AlterConfig retention.ms=not-a-number: %v, want %v", err, sarama.ErrInvalidConfig)
	}
	checkSaramaConfig(t, "s-three after the refused AlterConfig", describeSaramaConfig(t, adm, three), "retention.ms", "3600000", true)
	res, err := adm.DescribeConfigs([]*sarama.ConfigResource{{Type: sarama.TopicResource, Name: "s-missing"}}, sarama.DescribeConfigsOptions{})
	if err != nil || len(res) != 1 || !errors.Is(res[0].ErrorCode, sarama.ErrUnknownTopicOrPartition) {
		t.Errorf("DescribeConfigs of an unknown topic: %+v (error %v), want one result with %v", res, err, sarama.ErrUnknownTopicOrPartition)
	}
}

// listSaramaTopics lists every topic: with ListTopics (Metadata plus
// DescribeConfigs) where the version has DescribeConfigs, else from
// DescribeTopics of all topics (Metadata alone, without configs).
func listSaramaTopics(t *testing.T, adm sarama.ClusterAdmin, withConfigs bool) map[string]sarama.TopicDetail {
	t.Helper()
	if withConfigs {
		topics, err := adm.ListTopics()
		if err != nil {
			t.Fatalf("ListTopics: %v", err)
		}
		return topics
	}
	md, err := adm.DescribeTopics(nil)
	if err != nil {
		t.Fatalf("DescribeTopics of all topics: %v", err)
	}
	out := make(map[string]sarama.TopicDetail, len(md))
	for _, tm := range md {
		if !errors.Is(tm.Err, sarama.ErrNoError) {
			t.Fatalf("DescribeTopics of all topics: %s: %v", tm.Name, tm.Err)
		}
		d := sarama.TopicDetail{NumPartitions: int32(len(tm.Partitions)), ReplicaAssignment: make(map[int32][]int32)}
		for _, p := range tm.Partitions {
			d.ReplicaAssignment[p.ID] = p.Replicas
			d.ReplicationFactor = int16(len(p.Replicas))
		}
		out[tm.Name] = d
	}
	return out
}

// findSaramaTopic returns the named topic of a metadata answer, or nil.
func findSaramaTopic(md []*sarama.TopicMetadata, name string) *sarama.TopicMetadata {
	for _, tm := range md {
		if tm.Name == name {
			return tm
		}
	}
	return nil
}

// checkSaramaTopic checks that a described topic has n partitions 0..n-1,
// each led by broker 1 with replicas and ISR [1].
func checkSaramaTopic(t *testing.T, what string, md []*sarama.TopicMetadata, name string, n int) {
	t.Helper()
	tm := findSaramaTopic(md, name)
	if tm == nil || !errors.Is(tm.Err, sarama.ErrNoError) || len(tm.Partitions) != n {
		t.Errorf("%s: %s = %+v, want %d partitions without error", what, name, tm, n)
		return
	}
	seen := make(map[int32]bool)
	for _, p := range tm.Partitions {
		seen[p.ID] = true
		if !errors.Is(p.Err, sarama.ErrNoError) || p.Leader != 1 || !slices.Equal(p.Replicas, []int32{1}) || !slices.Equal(p.Isr, []int32{1}) {
			t.Errorf("%s: %s partition %d = %+v, want leader 1, replicas [1], isr [1]", what, name, p.ID, p)
		}
	}
	for i := range int32(n) {
		if !seen[i] {
			t.Errorf("%s: %s lacks partition %d", what, name, i)
		}
	}
}

// describeSaramaConfig describes one resource's configs by name.
func describeSaramaConfig(t *testing.T, adm sarama.ClusterAdmin, res sarama.ConfigResource) map[string]sarama.ConfigEntry {
	t.Helper()
	results, err := adm.DescribeConfigs([]*sarama.ConfigResource{&res}, sarama.DescribeConfigsOptions{})
	if err != nil {
		t.Fatalf("DescribeConfigs %s: %v", res.Name, err)
	}
	if len(results) != 1 || results[0].Name != res.Name || !errors.Is(results[0].ErrorCode, sarama.ErrNoError) {
		t.Fatalf("DescribeConfigs %s: %+v, want one result without error", res.Name, results)
	}
	out := make(map[string]sarama.ConfigEntry, len(results[0].Configs))
	for _, e := range results[0].Configs {
		out[e.Name] = e
	}
	return out
}

// checkSaramaConfig checks a described topic config's value and whether it
// is a topic override. DescribeConfigs v0 (sarama before Kafka 1.1) has only
// the is-default flag, so there an override is any non-default value; v1+
// has the source.
func checkSaramaConfig(t *testing.T, what string, cfgs map[string]sarama.ConfigEntry, name, value string, override bool) {
	t.Helper()
	c, ok := cfgs[name]
	isOverride := c.Source == sarama.SourceTopic || (c.Source == sarama.SourceUnknown && !c.Default)
	if !ok || c.Value != value || isOverride != override || c.Sensitive {
		t.Errorf("%s: config %s = %+v (present %v), want %q with override %v", what, name, c, ok, value, override)
	}
}

// saramaSent is one message as the test built it, with the partition and
// offset the producer reported.
type saramaSent struct {
	key, value []byte // value nil: a tombstone
	headers    []sarama.RecordHeader
	timestamp  time.Time
	partition  int32
	offset     int64 // -1 when the producer did not learn it (acks none)
}

// saramaMessages builds n keyed messages for topic with six keys, a
// tombstone every 20th message, millisecond timestamps from base and (when
// withHeaders) two headers each, one with a null value.
func saramaMessages(topic string, n int, base time.Time, withHeaders bool) []*sarama.ProducerMessage {
	msgs := make([]*sarama.ProducerMessage, n)
	for i := range n {
		m := &sarama.ProducerMessage{
			Topic:     topic,
			Key:       sarama.StringEncoder(fmt.Sprintf("key-%d", i%6)),
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
		if i%20 != 7 {
			m.Value = sarama.StringEncoder(fmt.Sprintf("value %03d: %s", i, strings.Repeat("samsa ", i%7)))
		}
		if withHeaders {
			m.Headers = []sarama.RecordHeader{
				{Key: []byte("n"), Value: fmt.Appendf(nil, "%d", i)},
				{Key: []byte("empty"), Value: nil},
			}
		}
		msgs[i] = m
	}
	return msgs
}

// sendSarama sends msgs with a SyncProducer built from cfg and returns what
// was sent, with partitions and (for acks other than none) offsets.
func sendSarama(t *testing.T, addr string, cfg *sarama.Config, msgs []*sarama.ProducerMessage) []saramaSent {
	t.Helper()
	prod, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatalf("sarama SyncProducer (version %s, acks %d, codec %s): %v", cfg.Version, cfg.Producer.RequiredAcks, cfg.Producer.Compression, err)
	}
	defer func() {
		if err := prod.Close(); err != nil {
			t.Errorf("close SyncProducer: %v", err)
		}
	}()
	if err := prod.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			t.Fatalf("SendMessages: %d of %d failed, first: %v", len(perrs), len(msgs), perrs[0].Err)
		}
		t.Fatalf("SendMessages: %v", err)
	}
	out := make([]saramaSent, len(msgs))
	for i, m := range msgs {
		s := saramaSent{headers: m.Headers, timestamp: m.Timestamp, partition: m.Partition, offset: m.Offset}
		s.key, s.value = encodeSarama(m.Key), encodeSarama(m.Value)
		if cfg.Producer.RequiredAcks == sarama.NoResponse {
			s.offset = -1
		}
		out[i] = s
	}
	return out
}

// encodeSarama returns the bytes of a message key or value; nil for null.
func encodeSarama(e sarama.Encoder) []byte {
	if e == nil {
		return nil
	}
	b, _ := e.Encode() // String and byte encoders cannot fail
	return b
}

// saramaConsume reads counts[p] messages of each partition p from the log
// start offset with sarama partition consumers, all started (and closed)
// together so their fetches overlap.
func saramaConsume(t *testing.T, client sarama.Client, topic string, counts map[int32]int) map[int32][]*sarama.ConsumerMessage {
	t.Helper()
	c, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatalf("sarama consumer: %v", err)
	}
	defer c.Close()
	pcs := make(map[int32]sarama.PartitionConsumer)
	defer func() {
		for _, pc := range pcs {
			pc.AsyncClose()
		}
		for _, pc := range pcs {
			_ = pc.Close() // drains; errors were reported while reading
		}
	}()
	for p, n := range counts {
		if n == 0 {
			continue
		}
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("ConsumePartition %s/%d from the oldest offset: %v", topic, p, err)
		}
		pcs[p] = pc
	}
	deadline := time.NewTimer(saramaTimeout)
	defer deadline.Stop()
	out := make(map[int32][]*sarama.ConsumerMessage)
	for p, pc := range pcs {
		for len(out[p]) < counts[p] {
			select {
			case m := <-pc.Messages():
				out[p] = append(out[p], m)
			case err := <-pc.Errors():
				t.Fatalf("consume %s/%d after %d messages: %v", topic, p, len(out[p]), err)
			case <-deadline.C:
				t.Fatalf("consume %s/%d: %d of %d messages within %v", topic, p, len(out[p]), counts[p], saramaTimeout)
			}
		}
	}
	return out
}

// saramaOffset is client.GetOffset that fails the test on an error.
func saramaOffset(t *testing.T, client sarama.Client, topic string, partition int32, at int64) int64 {
	t.Helper()
	o, err := client.GetOffset(topic, partition, at)
	if err != nil {
		t.Fatalf("GetOffset %s/%d at %d: %v", topic, partition, at, err)
	}
	return o
}

// checkSaramaReadBack consumes every partition of topic with sarama and
// checks that it holds exactly the sent messages, per partition in send
// order from offset 0, with their keys, values, headers and timestamps.
func checkSaramaReadBack(t *testing.T, client sarama.Client, topic string, partitions int32, sent []saramaSent, withHeaders bool) {
	t.Helper()
	want := make(map[int32][]saramaSent)
	for _, s := range sent {
		want[s.partition] = append(want[s.partition], s)
	}
	// acks none returns before the broker appends: wait for the high
	// watermarks to cover everything sent.
	samsatest.Eventually(t, saramaTimeout, "high watermarks covering every message sent", func() bool {
		total := int64(0)
		for p := range partitions {
			total += saramaOffset(t, client, topic, p, sarama.OffsetNewest)
		}
		return total >= int64(len(sent))
	})
	counts := make(map[int32]int)
	for p := range partitions {
		if end := saramaOffset(t, client, topic, p, sarama.OffsetNewest); end != int64(len(want[p])) {
			t.Fatalf("%s/%d: high watermark %d, want %d (messages sent there)", topic, p, end, len(want[p]))
		}
		counts[p] = len(want[p])
	}
	consumed := saramaConsume(t, client, topic, counts)
	for p := range partitions {
		for i, m := range consumed[p] {
			w := want[p][i]
			if w.offset >= 0 && w.offset != int64(i) {
				t.Fatalf("%s/%d: message %d was acknowledged at offset %d, want offsets from 0 in send order", topic, p, i, w.offset)
			}
			switch {
			case m.Offset != int64(i) || m.Partition != p:
				t.Fatalf("%s/%d: message %d read at %d/%d", topic, p, i, m.Partition, m.Offset)
			case string(m.Key) != string(w.key) || string(m.Value) != string(w.value) || (m.Value == nil) != (w.value == nil):
				t.Fatalf("%s/%d@%d: read key %q value %q (null %v), want key %q value %q (null %v)",
					topic, p, i, m.Key, m.Value, m.Value == nil, w.key, w.value, w.value == nil)
			case m.Timestamp.UnixMilli() != w.timestamp.UnixMilli():
				t.Fatalf("%s/%d@%d: timestamp %d, want %d", topic, p, i, m.Timestamp.UnixMilli(), w.timestamp.UnixMilli())
			}
			if withHeaders {
				if len(m.Headers) != len(w.headers) {
					t.Fatalf("%s/%d@%d: %d headers, want %d", topic, p, i, len(m.Headers), len(w.headers))
				}
				for j, h := range m.Headers {
					if string(h.Key) != string(w.headers[j].Key) || string(h.Value) != string(w.headers[j].Value) {
						t.Fatalf("%s/%d@%d: header %d = %q:%q, want %q:%q", topic, p, i, j, h.Key, h.Value, w.headers[j].Key, w.headers[j].Value)
					}
				}
			} else if len(m.Headers) != 0 {
				t.Fatalf("%s/%d@%d: %d headers on a message sent without", topic, p, i, len(m.Headers))
			}
		}
	}
}

func TestSaramaSyncProducerAndPartitionConsumer(t *testing.T) {
	const (
		partitions = 3
		count      = 120
	)
	base := time.UnixMilli(1_700_000_000_000)
	acks := []struct {
		name string
		acks sarama.RequiredAcks
	}{
		{"all", sarama.WaitForAll},
		{"leader", sarama.WaitForLocal},
		{"none", sarama.NoResponse},
	}
	saramaCodecs := map[string]sarama.CompressionCodec{
		"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
		"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
	}
	for _, v := range saramaVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := samsatest.Start(t)
			client := newSaramaClient(t, b.Addr, saramaConfig(v.version))
			adm := newSaramaAdmin(t, client)
			// Every acks setting without compression, then every codec with
			// acks all.
			type produceCase struct {
				acks  string
				codec string
			}
			var cases []produceCase
			for _, a := range acks {
				cases = append(cases, produceCase{a.name, "none"})
			}
			for _, c := range codecs[1:] {
				if c.name != "zstd" || v.zstd {
					cases = append(cases, produceCase{"all", c.name})
				}
			}
			for _, c := range cases {
				t.Run("acks="+c.acks+"/"+c.codec, func(t *testing.T) {
					t.Parallel()
					topic := "sarama-" + c.acks + "-" + c.codec
					saramaCreateTopic(t, adm, topic, partitions)
					cfg := saramaConfig(v.version)
					for _, a := range acks {
						if a.name == c.acks {
							cfg.Producer.RequiredAcks = a.acks
						}
					}
					cfg.Producer.Compression = saramaCodecs[c.codec]
					// Batch a little, so compressed batches hold many records.
					cfg.Producer.Flush.Frequency = 5 * time.Millisecond
					sent := sendSarama(t, b.Addr, cfg, saramaMessages(topic, count, base, v.headers))

					keyPart := make(map[string]int32)
					for _, s := range sent {
						if p, ok := keyPart[string(s.key)]; ok && p != s.partition {
							t.Errorf("key %q sent to partitions %d and %d", s.key, p, s.partition)
						}
						keyPart[string(s.key)] = s.partition
					}
					checkSaramaReadBack(t, client, topic, partitions, sent, v.headers)
					for _, cc := range codecs {
						if cc.name == c.codec {
							for p := range int32(partitions) {
								if saramaOffset(t, client, topic, p, sarama.OffsetNewest) > 0 {
									checkCodec(t, b.Addr, topic, p, cc.name, cc.attr)
								}
							}
						}
					}
				})
			}
		})
	}
}

func TestSaramaIdempotentProducer(t *testing.T) {
	const (
		rounds   = 4
		perRound = 25
	)
	for _, v := range saramaVersions {
		if !v.idempotent {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := samsatest.Start(t)
			client := newSaramaClient(t, b.Addr, saramaConfig(v.version))
			const topic = "sarama-idempotent"
			saramaCreateTopic(t, newSaramaAdmin(t, client), topic, 1)

			cfg := saramaConfig(v.version)
			cfg.Producer.Idempotent = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Retry.Max = 5
			cfg.Net.MaxOpenRequests = 1
			prod, err := sarama.NewSyncProducer([]string{b.Addr}, cfg)
			if err != nil {
				t.Fatalf("idempotent SyncProducer: %v", err)
			}
			closed := false
			defer func() {
				if !closed {
					_ = prod.Close()
				}
			}()
			var sent []saramaSent
			base := time.UnixMilli(1_700_000_000_000)
			for r := range rounds {
				msgs := saramaMessages(topic, perRound, base.Add(time.Duration(r)*time.Second), true)
				if err := prod.SendMessages(msgs); err != nil {
					t.Fatalf("SendMessages round %d: %v", r, err)
				}
				for _, m := range msgs {
					s := saramaSent{headers: m.Headers, timestamp: m.Timestamp, partition: m.Partition, offset: m.Offset}
					s.key, s.value = encodeSarama(m.Key), encodeSarama(m.Value)
					sent = append(sent, s)
				}
			}
			closed = true
			if err := prod.Close(); err != nil {
				t.Fatalf("close idempotent producer: %v", err)
			}
			checkSaramaReadBack(t, client, topic, 1, sent, true)

			// Every stored batch carries one producer ID, epoch 0, and
			// sequences that continue where the previous batch ended.
			batches := fetchBatches(t, b.Addr, topic, 0)
			if len(batches) == 0 {
				t.Fatal("no batches stored")
			}
			pid := batches[0].ProducerID
			seq := int32(0)
			for _, bt := range batches {
				if pid < 0 || bt.ProducerID != pid || bt.ProducerEpoch != 0 || bt.BaseSequence != seq {
					t.Fatalf("batch @%d: producer %d epoch %d base sequence %d, want producer %d (>= 0) epoch 0 sequence %d",
						bt.BaseOffset, bt.ProducerID, bt.ProducerEpoch, bt.BaseSequence, pid, seq)
				}
				seq += bt.NumRecords
			}
			if seq != rounds*perRound {
				t.Fatalf("batches hold %d records, want %d", seq, rounds*perRound)
			}
		})
	}
}

func TestSaramaOffsetsAndDeleteRecords(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	for _, v := range saramaVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			b := samsatest.Start(t)
			client := newSaramaClient(t, b.Addr, saramaConfig(v.version))
			adm := newSaramaAdmin(t, client)
			const topic = "sarama-offsets"
			saramaCreateTopic(t, adm, topic, 2)

			// Ten messages a second apart in partition 0; partition 1 stays
			// empty.
			cfg := saramaConfig(v.version)
			cfg.Producer.Partitioner = sarama.NewManualPartitioner
			msgs := make([]*sarama.ProducerMessage, 10)
			for i := range msgs {
				msgs[i] = &sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf("t%d", i)),
					Timestamp: base.Add(time.Duration(i) * time.Second)}
			}
			sendSarama(t, b.Addr, cfg, msgs)

			ms := func(d time.Duration) int64 { return base.Add(d).UnixMilli() }
			cases := []struct {
				name      string
				partition int32
				at        int64
				want      int64
			}{
				{"newest", 0, sarama.OffsetNewest, 10},
				{"oldest", 0, sarama.OffsetOldest, 0},
				{"before the first message", 0, ms(-time.Hour), 0},
				{"exactly the first message", 0, ms(0), 0},
				{"between messages", 0, ms(3500 * time.Millisecond), 4},
				{"exactly the last message", 0, ms(9 * time.Second), 9},
				{"after the last message", 0, ms(10 * time.Second), -1},
				{"empty partition newest", 1, sarama.OffsetNewest, 0},
				{"empty partition oldest", 1, sarama.OffsetOldest, 0},
				{"empty partition by time", 1, ms(0), -1},
			}
			for _, c := range cases {
				if got := saramaOffset(t, client, topic, c.partition, c.at); got != c.want {
					t.Errorf("GetOffset %s (%s/%d at %d) = %d, want %d", c.name, topic, c.partition, c.at, got, c.want)
				}
			}

			if !v.admin {
				return // no DeleteRecords before Kafka 0.11
			}
			// DeleteRecords moves the log start offset; the oldest offset and
			// a consumer from the oldest offset follow it. Past the high
			// watermark is OFFSET_OUT_OF_RANGE.
			if err := adm.DeleteRecords(topic, map[int32]int64{0: 4}); err != nil {
				t.Fatalf("DeleteRecords %s/0 before 4: %v", topic, err)
			}
			if got := saramaOffset(t, client, topic, 0, sarama.OffsetOldest); got != 4 {
				t.Errorf("GetOffset oldest after DeleteRecords before 4 = %d, want 4", got)
			}
			if got := saramaOffset(t, client, topic, 0, ms(0)); got != 4 {
				t.Errorf("GetOffset for the first (deleted) message's time after DeleteRecords = %d, want 4", got)
			}
			c, err := sarama.NewConsumerFromClient(client)
			if err != nil {
				t.Fatalf("sarama consumer: %v", err)
			}
			defer c.Close()
			pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
			if err != nil {
				t.Fatalf("ConsumePartition from the oldest offset after DeleteRecords: %v", err)
			}
			defer pc.Close()
			select {
			case m := <-pc.Messages():
				if m.Offset != 4 || string(m.Value) != "t4" {
					t.Errorf("first message from the oldest offset after DeleteRecords: %d %q, want 4 \"t4\"", m.Offset, m.Value)
				}
			case err := <-pc.Errors():
				t.Fatalf("consume after DeleteRecords: %v", err)
			case <-time.After(saramaTimeout):
				t.Fatalf("no message from the oldest offset within %v after DeleteRecords", saramaTimeout)
			}
			if err := adm.DeleteRecords(topic, map[int32]int64{0: 11}); !errors.Is(err, sarama.ErrOffsetOutOfRange) {
				t.Errorf("DeleteRecords %s/0 before 11 (high watermark 10): %v, want %v", topic, err, sarama.ErrOffsetOutOfRange)
			}
			if got := saramaOffset(t, client, topic, 0, sarama.OffsetOldest); got != 4 {
				t.Errorf("GetOffset oldest after a refused DeleteRecords = %d, want 4", got)
			}
		})
	}
}
