package e2e

// Cross-client test with kafkajs (Node.js): testdata/kafkajs/compat.js runs
// the admin calls, a producer and the offset queries, and prints what
// kafkajs saw as JSON. kafkajs has no consumer without a group, so the
// produced records are read back here with franz-go.
//
// kafkajs is pinned in testdata/kafkajs/package.json and package-lock.json;
// node_modules is not committed: test.sh runs `npm ci` there. Locally a
// missing node or kafkajs skips the test with what to run; in CI it fails.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// requireKafkajs returns the node binary and the kafkajs script directory,
// skipping (locally) or failing (CI) when node or the installed kafkajs
// package is missing.
func requireKafkajs(t *testing.T) (node, dir string) {
	t.Helper()
	node = samsatest.RequireTool(t, "node", "nodejs")
	dir, err := filepath.Abs(filepath.Join("testdata", "kafkajs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs", "package.json")); err != nil {
		msg := fmt.Sprintf("kafkajs is not installed (%v): run npm ci --prefix internal/e2e/testdata/kafkajs (test.sh does it; npm comes with apt-get install npm)", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, dir
}

// jsError is a kafkajs error as compat.js prints it.
type jsError struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Code    *int   `json:"code"`
	Message string `json:"message"`
}

// jsResult is one kafkajs call: its result, or its error.
type jsResult[T any] struct {
	OK    T        `json:"ok"`
	Error *jsError `json:"error"`
}

type jsPartition struct {
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	Isr       []int32 `json:"isr"`
	ErrorCode int16   `json:"errorCode"`
}

type jsConfigs struct {
	ErrorCode int `json:"errorCode"`
	Entries   map[string]struct {
		Value     *string `json:"value"`
		IsDefault bool    `json:"isDefault"`
		Source    int     `json:"source"`
		ReadOnly  bool    `json:"readOnly"`
	} `json:"entries"`
}

// jsMessage is a message compat.js sent.
type jsMessage struct {
	Key       string            `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers"`
	Timestamp string            `json:"timestamp"`
}

// jsRecordMetadata is kafkajs's answer to a send, one per partition.
type jsRecordMetadata struct {
	TopicName  string `json:"topicName"`
	Partition  int32  `json:"partition"`
	ErrorCode  int    `json:"errorCode"`
	BaseOffset string `json:"baseOffset"`
}

// jsOffset is one partition of fetchTopicOffsets (high and low set) or
// fetchTopicOffsetsByTimestamp (offset only); kafkajs prints offsets as
// strings.
type jsOffset struct {
	Partition int32  `json:"partition"`
	Offset    string `json:"offset"`
	High      string `json:"high"`
	Low       string `json:"low"`
}

type jsOutput struct {
	Create              jsResult[bool]                  `json:"create"`
	CreateAgain         jsResult[bool]                  `json:"createAgain"`
	Topics              map[string][]jsPartition        `json:"topics"`
	Increase            jsResult[json.RawMessage]       `json:"increase"`
	Decrease            jsResult[json.RawMessage]       `json:"decrease"`
	TopicsAfterIncrease map[string][]jsPartition        `json:"topicsAfterIncrease"`
	ConfigsBefore       jsConfigs                       `json:"configsBefore"`
	Alter               jsResult[json.RawMessage]       `json:"alter"`
	ConfigsAfter        jsConfigs                       `json:"configsAfter"`
	Produce             map[string]jsProduced           `json:"produce"`
	ProduceTimes        jsResult[[]jsRecordMetadata]    `json:"produceTimes"`
	Offsets             jsResult[[]jsOffset]            `json:"offsets"`
	OffsetsByTimestamp  map[string]jsResult[[]jsOffset] `json:"offsetsByTimestamp"`
	Delete              jsResult[json.RawMessage]       `json:"delete"`
	DeleteUnknown       jsResult[json.RawMessage]       `json:"deleteUnknown"`
	TopicsAfterDelete   []string                        `json:"topicsAfterDelete"`
}

// jsProduced is one topic's messages and the answers to its sends (20
// messages each, in order).
type jsProduced struct {
	Sent    []jsMessage                    `json:"sent"`
	Results []jsResult[[]jsRecordMetadata] `json:"results"`
}

// jsSendSize is how many messages compat.js puts in one send.
const jsSendSize = 20

func TestKafkajsCompat(t *testing.T) {
	node, dir := requireKafkajs(t)
	b := samsatest.Start(t)
	stdout, stderr, err := tryTool(t, 60*time.Second, "", node, filepath.Join(dir, "compat.js"), b.Addr)
	if err != nil {
		t.Fatalf("node compat.js: %v\nstdout:\n%s\nstderr:\n%s", err, clip(stdout), clip(stderr))
	}
	var out jsOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("compat.js output: %v\n%s", err, clip(stdout))
	}

	t.Run("admin", func(t *testing.T) {
		if out.Create.Error != nil || !out.Create.OK {
			t.Errorf("createTopics = %+v, want true (created)", out.Create)
		}
		// kafkajs answers false when every topic already exists.
		if out.CreateAgain.Error != nil || out.CreateAgain.OK {
			t.Errorf("createTopics js-three again = %+v, want false (TOPIC_ALREADY_EXISTS)", out.CreateAgain)
		}
		checkJSTopic(t, "fetchTopicMetadata", out.Topics, "js-three", 3)
		checkJSTopic(t, "fetchTopicMetadata", out.Topics, "js-default", int(b.Config.DefaultPartitions))

		if out.Increase.Error != nil {
			t.Errorf("createPartitions js-three 3->5: %+v", out.Increase.Error)
		}
		// kafkajs drops the broker's error message for CreatePartitions: only
		// the code can be checked here (sarama and python check the text).
		if e := out.Decrease.Error; e == nil || e.Type != "INVALID_PARTITIONS" {
			t.Errorf("createPartitions js-three 5->2: %+v, want INVALID_PARTITIONS", e)
		}
		checkJSTopic(t, "fetchTopicMetadata after createPartitions", out.TopicsAfterIncrease, "js-three", 5)

		checkJSConfig(t, "js-three before alterConfigs", out.ConfigsBefore, "retention.ms", "604800000", false)
		checkJSConfig(t, "js-three before alterConfigs", out.ConfigsBefore, "cleanup.policy", "delete", false)
		if out.Alter.Error != nil {
			t.Errorf("alterConfigs js-three retention.ms=3600000: %+v", out.Alter.Error)
		}
		checkJSConfig(t, "js-three after alterConfigs", out.ConfigsAfter, "retention.ms", "3600000", true)
		checkJSConfig(t, "js-three after alterConfigs", out.ConfigsAfter, "cleanup.policy", "delete", false)

		if out.Delete.Error != nil {
			t.Errorf("deleteTopics js-default: %+v", out.Delete.Error)
		}
		if e := out.DeleteUnknown.Error; e == nil || e.Type != "UNKNOWN_TOPIC_OR_PARTITION" {
			t.Errorf("deleteTopics of an unknown topic: %+v, want UNKNOWN_TOPIC_OR_PARTITION", e)
		}
		if slices.Contains(out.TopicsAfterDelete, "js-default") || !slices.Contains(out.TopicsAfterDelete, "js-three") {
			t.Errorf("listTopics after deleteTopics js-default = %v, want js-three and no js-default", out.TopicsAfterDelete)
		}
	})

	t.Run("produce", func(t *testing.T) {
		for _, topic := range []string{"js-acks-all", "js-acks-leader", "js-gzip"} {
			t.Run(topic, func(t *testing.T) {
				pr, ok := out.Produce[topic]
				if !ok || len(pr.Sent) == 0 {
					t.Fatalf("compat.js produced nothing to %s", topic)
				}
				checkJSProduced(t, b.Addr, topic, pr)
				codec, attr := "none", int8(0)
				if topic == "js-gzip" {
					codec, attr = "gzip", 1
				}
				for p, end := range endOffsets(t, b.Addr, topic) {
					if end > 0 {
						checkCodec(t, b.Addr, topic, p, codec, attr)
					}
				}
			})
		}
	})

	t.Run("offsets", func(t *testing.T) {
		if e := out.ProduceTimes.Error; e != nil {
			t.Fatalf("send to js-times: %+v", e)
		}
		if e := out.Offsets.Error; e != nil {
			t.Fatalf("fetchTopicOffsets js-times: %+v", e)
		}
		got := make(map[int32]jsOffset)
		for _, o := range out.Offsets.OK {
			got[o.Partition] = o
		}
		want := map[int32]jsOffset{0: {0, "10", "10", "0"}, 1: {1, "0", "0", "0"}}
		if !maps.Equal(got, want) {
			t.Errorf("fetchTopicOffsets js-times = %+v, want %+v", got, want)
		}
		// kafkajs replaces "no such offset" (-1, a time after the last
		// message or an empty partition) by the high watermark.
		for name, p0 := range map[string]string{"before": "0", "first": "0", "between": "4", "last": "9", "after": "10"} {
			r, ok := out.OffsetsByTimestamp[name]
			if !ok || r.Error != nil {
				t.Errorf("fetchTopicOffsetsByTimestamp %s: %+v (present %v)", name, r.Error, ok)
				continue
			}
			got := make(map[int32]string)
			for _, o := range r.OK {
				got[o.Partition] = o.Offset
			}
			if want := map[int32]string{0: p0, 1: "0"}; !maps.Equal(got, want) {
				t.Errorf("fetchTopicOffsetsByTimestamp %s = %v, want %v", name, got, want)
			}
		}
	})
}

// checkJSTopic checks that a topic's metadata has n partitions 0..n-1, each
// led by broker 1 with replicas and ISR [1].
func checkJSTopic(t *testing.T, what string, topics map[string][]jsPartition, name string, n int) {
	t.Helper()
	parts, ok := topics[name]
	if !ok || len(parts) != n {
		t.Errorf("%s: %s has %d partitions (present %v), want %d", what, name, len(parts), ok, n)
		return
	}
	for i, p := range parts {
		if p.Partition != int32(i) || p.ErrorCode != 0 || p.Leader != 1 || !slices.Equal(p.Replicas, []int32{1}) || !slices.Equal(p.Isr, []int32{1}) {
			t.Errorf("%s: %s partition %d = %+v, want leader 1, replicas [1], isr [1]", what, name, i, p)
		}
	}
}

// checkJSConfig checks a described topic config's value and whether it is a
// topic override (source DYNAMIC_TOPIC_CONFIG).
func checkJSConfig(t *testing.T, what string, cfgs jsConfigs, name, value string, override bool) {
	t.Helper()
	c, ok := cfgs.Entries[name]
	isOverride := c.Source == dynamicTopicConfig && !c.IsDefault
	if cfgs.ErrorCode != 0 || !ok || deref(c.Value) != value || isOverride != override {
		t.Errorf("%s: config %s = %q (source %d, isDefault %v, present %v, error code %d), want %q with override %v",
			what, name, deref(c.Value), c.Source, c.IsDefault, ok, cfgs.ErrorCode, value, override)
	}
}

// checkJSProduced reads topic back with franz-go and checks that it holds
// exactly the messages kafkajs sent: each key in one partition, in send
// order, with its value (null stays null), headers and timestamp; offsets
// contiguous from 0; and every send's baseOffset pointing at the first
// message of that send in its partition.
func checkJSProduced(t *testing.T, addr, topic string, pr jsProduced) {
	t.Helper()
	byPart := consumeAll(t, addr, topic)
	total := 0
	got := make(map[string][]jsMessage) // by key, in offset order
	keyPart := make(map[string]int32)
	for p, recs := range byPart {
		total += len(recs)
		for i, r := range recs {
			if r.Offset != int64(i) {
				t.Fatalf("%s/%d: record %d has offset %d, want offsets from 0", topic, p, i, r.Offset)
			}
			m := jsMessage{Key: string(r.Key), Headers: make(map[string]string), Timestamp: strconv.FormatInt(r.Timestamp.UnixMilli(), 10)}
			if r.Value != nil {
				v := string(r.Value)
				m.Value = &v
			}
			for _, h := range r.Headers {
				m.Headers[h.Key] = string(h.Value)
			}
			if kp, ok := keyPart[m.Key]; ok && kp != p {
				t.Errorf("%s: key %q in partitions %d and %d", topic, m.Key, kp, p)
			}
			keyPart[m.Key] = p
			got[m.Key] = append(got[m.Key], m)
		}
	}
	if total != len(pr.Sent) {
		t.Fatalf("%s holds %d records, kafkajs sent %d", topic, total, len(pr.Sent))
	}
	want := make(map[string][]jsMessage)
	for _, m := range pr.Sent {
		want[m.Key] = append(want[m.Key], m)
	}
	for k, ws := range want {
		gs := got[k]
		if len(gs) != len(ws) {
			t.Errorf("%s: key %q has %d records, want %d", topic, k, len(gs), len(ws))
			continue
		}
		for i := range ws {
			g, w := gs[i], ws[i]
			if (g.Value == nil) != (w.Value == nil) || deref(g.Value) != deref(w.Value) || g.Timestamp != w.Timestamp || !maps.Equal(g.Headers, w.Headers) {
				t.Errorf("%s: key %q record %d = value %q (null %v) ts %s headers %v, want value %q (null %v) ts %s headers %v",
					topic, k, i, deref(g.Value), g.Value == nil, g.Timestamp, g.Headers, deref(w.Value), w.Value == nil, w.Timestamp, w.Headers)
			}
		}
	}

	// Each send's answer names, per partition, the offset of its first
	// message there: the record at baseOffset belongs to that send and the
	// one before it to an earlier send.
	if len(pr.Results) != (len(pr.Sent)+jsSendSize-1)/jsSendSize {
		t.Fatalf("%s: %d send answers for %d messages", topic, len(pr.Results), len(pr.Sent))
	}
	sendOf := func(p int32, off int64) int {
		n, err := strconv.Atoi(string(byPart[p][off].Headers[0].Value))
		if err != nil || byPart[p][off].Headers[0].Key != "n" {
			t.Fatalf("%s/%d@%d: first header %+v is not the message number", topic, p, off, byPart[p][off].Headers)
		}
		return n / jsSendSize
	}
	for s, r := range pr.Results {
		if r.Error != nil {
			t.Fatalf("%s: send %d failed: %+v", topic, s, r.Error)
		}
		for _, md := range r.OK {
			base, err := strconv.ParseInt(md.BaseOffset, 10, 64)
			if md.TopicName != topic || md.ErrorCode != 0 || err != nil || base < 0 || base >= int64(len(byPart[md.Partition])) {
				t.Errorf("%s: send %d answered %+v", topic, s, md)
				continue
			}
			if sendOf(md.Partition, base) != s || (base > 0 && sendOf(md.Partition, base-1) >= s) {
				t.Errorf("%s: send %d answered base offset %d for partition %d, which is not its first record there", topic, s, base, md.Partition)
			}
		}
	}
}
