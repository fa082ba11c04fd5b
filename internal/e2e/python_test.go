package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// runPython runs testdata/<script> with /usr/bin/python3 (-B: no
// __pycache__ in the source tree) and decodes its JSON output into out.
func runPython(t *testing.T, python, script string, out any, args ...string) {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	stdout := runTool(t, "", python, append([]string{"-B", path}, args...)...)
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Fatalf("%s output: %v\n%s", script, err, stdout)
	}
}

// pyError is a KafkaError as the scripts print it; a nil *pyError means
// success.
type pyError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type pyTopic struct {
	Error      *pyError `json:"error"`
	Partitions map[string]struct {
		Leader   int   `json:"leader"`
		Replicas []int `json:"replicas"`
		Isrs     []int `json:"isrs"`
	} `json:"partitions"`
}

type pyConfig struct {
	Value     *string `json:"value"`
	IsDefault bool    `json:"is_default"`
	Source    int     `json:"source"`
	ReadOnly  bool    `json:"read_only"`
}

func TestPythonAdminClient(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t)
	var out struct {
		Create              map[string]*pyError `json:"create"`
		CreateAgain         *pyError            `json:"create_again"`
		Topics              map[string]pyTopic  `json:"topics"`
		Brokers             map[string]string   `json:"brokers"`
		Controller          int                 `json:"controller"`
		Increase            *pyError            `json:"increase"`
		Decrease            *pyError            `json:"decrease"`
		TopicsAfterIncrease map[string]pyTopic  `json:"topics_after_increase"`
		ConfigsBefore       map[string]pyConfig `json:"configs_before"`
		ConfigsCompact      map[string]pyConfig `json:"configs_compact"`
		Alter               *pyError            `json:"alter"`
		ConfigsAfter        map[string]pyConfig `json:"configs_after"`
		AlterInvalid        *pyError            `json:"alter_invalid"`
		Delete              *pyError            `json:"delete"`
		DeleteUnknown       *pyError            `json:"delete_unknown"`
		TopicsAfterDelete   map[string]pyTopic  `json:"topics_after_delete"`
	}
	runPython(t, python, "admin.py", &out, p.Addr())

	for _, name := range []string{"py-three", "py-default", "py-compact"} {
		if e, ok := out.Create[name]; !ok || e != nil {
			t.Errorf("create_topics %s: %+v (present %v), want success", name, e, ok)
		}
	}
	if e := out.CreateAgain; e == nil || e.Code != "TOPIC_ALREADY_EXISTS" {
		t.Errorf("creating py-three twice: %+v, want TOPIC_ALREADY_EXISTS", e)
	}

	if len(out.Brokers) != 1 || out.Brokers["1"] != p.Addr() || out.Controller != 1 {
		t.Errorf("list_topics brokers %v controller %d, want broker 1 at %s as controller", out.Brokers, out.Controller, p.Addr())
	}
	wantParts := map[string]int{"py-three": 3, "py-default": 3, "py-compact": 1}
	for name, n := range wantParts {
		checkPyTopic(t, "list_topics", out.Topics, name, n)
	}

	if out.Increase != nil {
		t.Errorf("create_partitions py-three 3->5: %+v, want success", out.Increase)
	}
	if e := out.Decrease; e == nil || e.Code != "INVALID_PARTITIONS" || !strings.HasSuffix(e.Message, "would not be an increase.") {
		t.Errorf("create_partitions py-three 5->2: %+v, want INVALID_PARTITIONS \"... would not be an increase.\"", e)
	}
	checkPyTopic(t, "list_topics after create_partitions", out.TopicsAfterIncrease, "py-three", 5)

	checkConfig(t, "py-three before alter", out.ConfigsBefore, "retention.ms", "604800000", false)
	checkConfig(t, "py-three before alter", out.ConfigsBefore, "cleanup.policy", "delete", false)
	checkConfig(t, "py-compact", out.ConfigsCompact, "cleanup.policy", "compact", true)
	if out.Alter != nil {
		t.Errorf("alter_configs py-three: %+v, want success", out.Alter)
	}
	checkConfig(t, "py-three after alter", out.ConfigsAfter, "retention.ms", "3600000", true)
	checkConfig(t, "py-three after alter", out.ConfigsAfter, "max.message.bytes", "65536", true)
	checkConfig(t, "py-three after alter", out.ConfigsAfter, "cleanup.policy", "delete", false)
	if e := out.AlterInvalid; e == nil || e.Code != "INVALID_CONFIG" {
		t.Errorf("alter_configs retention.ms=not-a-number: %+v, want INVALID_CONFIG", e)
	}

	if out.Delete != nil {
		t.Errorf("delete_topics py-default: %+v, want success", out.Delete)
	}
	if e := out.DeleteUnknown; e == nil || e.Code != "UNKNOWN_TOPIC_OR_PART" {
		t.Errorf("delete_topics of an unknown topic: %+v, want UNKNOWN_TOPIC_OR_PART", e)
	}
	if _, ok := out.TopicsAfterDelete["py-default"]; ok {
		t.Errorf("py-default still listed after delete_topics")
	}
	checkPyTopic(t, "list_topics after delete", out.TopicsAfterDelete, "py-three", 5)
}

// checkPyTopic checks that a listed topic has n partitions, each led by
// broker 1 with replicas and ISR [1].
func checkPyTopic(t *testing.T, what string, topics map[string]pyTopic, name string, n int) {
	t.Helper()
	tp, ok := topics[name]
	if !ok {
		t.Errorf("%s: %s missing", what, name)
		return
	}
	if tp.Error != nil || len(tp.Partitions) != n {
		t.Errorf("%s: %s has %d partitions (error %+v), want %d", what, name, len(tp.Partitions), tp.Error, n)
	}
	for i := range n {
		pp, ok := tp.Partitions[strconv.Itoa(i)]
		if !ok || pp.Leader != 1 || !slices.Equal(pp.Replicas, []int{1}) || !slices.Equal(pp.Isrs, []int{1}) {
			t.Errorf("%s: %s partition %d = %+v (present %v), want leader 1, replicas [1], isrs [1]", what, name, i, pp, ok)
		}
	}
}

// dynamicTopicConfig is librdkafka's ConfigSource for a topic override.
const dynamicTopicConfig = 1

// checkConfig checks a described topic config's value and whether it is a
// topic override (source DYNAMIC_TOPIC_CONFIG) or comes from the broker.
func checkConfig(t *testing.T, what string, cfgs map[string]pyConfig, name, value string, override bool) {
	t.Helper()
	c, ok := cfgs[name]
	isOverride := c.Source == dynamicTopicConfig && !c.IsDefault
	if !ok || deref(c.Value) != value || isOverride != override {
		t.Errorf("%s: config %s = %q (source %d, is_default %v, present %v), want %q with override %v",
			what, name, deref(c.Value), c.Source, c.IsDefault, ok, value, override)
	}
}

// pyRecord is a delivery report or consumed record as the scripts print it.
type pyRecord struct {
	Error         *pyError   `json:"error"`
	Partition     int32      `json:"partition"`
	Offset        int64      `json:"offset"`
	Key           *string    `json:"key"`
	Value         *string    `json:"value"`
	Headers       [][]string `json:"headers"`
	TimestampType int        `json:"timestamp_type"`
	Timestamp     int64      `json:"timestamp"`
}

func TestPythonProduceAndAssignedConsume(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t)
	const count = 300
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic := "py-records-" + c.name
			createTopic(t, p.Addr(), topic, 3, nil)
			var out struct {
				BaseTS    int64      `json:"base_ts"`
				Delivered []pyRecord `json:"delivered"`
				Consumed  []pyRecord `json:"consumed"`
			}
			runPython(t, python, "produce_consume.py", &out, p.Addr(), topic, c.name, strconv.Itoa(count))

			if len(out.Delivered) != count {
				t.Fatalf("%d delivery reports, want %d", len(out.Delivered), count)
			}
			acked := make(map[[2]int64]pyRecord)
			for _, d := range out.Delivered {
				if d.Error != nil {
					t.Fatalf("delivery of %v failed: %+v", deref(d.Value), d.Error)
				}
				acked[[2]int64{int64(d.Partition), d.Offset}] = d
			}
			if len(out.Consumed) != count {
				t.Fatalf("consumed %d records, want %d", len(out.Consumed), count)
			}
			next := make(map[int32]int64)
			keyPart := make(map[string]int32)
			for _, r := range out.Consumed {
				if r.Offset != next[r.Partition] {
					t.Fatalf("partition %d: offset %d after %d records, want contiguous from 0", r.Partition, r.Offset, next[r.Partition])
				}
				next[r.Partition]++
				d, ok := acked[[2]int64{int64(r.Partition), r.Offset}]
				if !ok || deref(d.Key) != deref(r.Key) || deref(d.Value) != deref(r.Value) {
					t.Fatalf("consumed %d/%d %s=%s, delivery report says %s=%s", r.Partition, r.Offset, deref(r.Key), deref(r.Value), deref(d.Key), deref(d.Value))
				}
				if pp, ok := keyPart[deref(r.Key)]; ok && pp != r.Partition {
					t.Errorf("key %s in partitions %d and %d", deref(r.Key), pp, r.Partition)
				}
				keyPart[deref(r.Key)] = r.Partition
				var i int
				if _, err := fmt.Sscanf(deref(r.Value), c.name+" value %d", &i); err != nil {
					t.Fatalf("value %q: %v", deref(r.Value), err)
				}
				wantHeaders := [][]string{{"index", strconv.Itoa(i)}, {"codec", c.name}}
				if !slices.EqualFunc(r.Headers, wantHeaders, slices.Equal) {
					t.Errorf("record %d headers %v, want %v", i, r.Headers, wantHeaders)
				}
				if r.TimestampType != 1 || r.Timestamp != out.BaseTS+int64(i) {
					t.Errorf("record %d timestamp (type %d) %d, want CreateTime (1) %d", i, r.TimestampType, r.Timestamp, out.BaseTS+int64(i))
				}
			}

			for part := range int32(3) {
				checkCodec(t, p.Addr(), topic, part, c.name, c.attr)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestPythonListOffsetsAndOffsetsForTimes(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t)
	createTopic(t, p.Addr(), "py-times", 2, nil)
	var out struct {
		Watermarks map[string][2]int64 `json:"watermarks"`
		Times      []struct {
			Partition int32   `json:"partition"`
			DeltaMs   int64   `json:"delta_ms"`
			Offset    int64   `json:"offset"`
			Error     *string `json:"error"`
		} `json:"times"`
	}
	runPython(t, python, "offsets.py", &out, p.Addr(), "py-times")

	if w := out.Watermarks["0"]; w != [2]int64{0, 10} {
		t.Errorf("partition 0 watermarks %v, want [0 10]", w)
	}
	if w := out.Watermarks["1"]; w != [2]int64{0, 0} {
		t.Errorf("partition 1 watermarks %v, want [0 0]", w)
	}
	want := map[[2]int64]int64{ // (partition, delta) -> offset; -1 is OFFSET_END: no such record
		{0, -3600000}: 0,
		{0, 0}:        0,
		{0, 3500}:     4,
		{0, 9000}:     9,
		{0, 10000}:    -1,
		{1, 0}:        -1,
	}
	if len(out.Times) != len(want) {
		t.Fatalf("%d offsets_for_times answers, want %d", len(out.Times), len(want))
	}
	for _, r := range out.Times {
		w := want[[2]int64{int64(r.Partition), r.DeltaMs}]
		if r.Error != nil || r.Offset != w {
			t.Errorf("offsets_for_times partition %d at base%+dms = %d (error %v), want %d", r.Partition, r.DeltaMs, r.Offset, deref(r.Error), w)
		}
	}
}

func TestPythonIdempotentProducerWritesNoDuplicates(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t)
	const topic, count = "py-idem", 1000
	createTopic(t, p.Addr(), topic, 3, nil)
	var out struct {
		Delivered []pyRecord `json:"delivered"`
		Consumed  []pyRecord `json:"consumed"`
	}
	runPython(t, python, "idempotent.py", &out, p.Addr(), topic, strconv.Itoa(count))

	if len(out.Delivered) != count {
		t.Fatalf("%d delivery reports, want %d", len(out.Delivered), count)
	}
	at := make(map[[2]int64]string)
	for _, d := range out.Delivered {
		if d.Error != nil {
			t.Fatalf("delivery of %s failed: %+v", deref(d.Value), d.Error)
		}
		at[[2]int64{int64(d.Partition), d.Offset}] = deref(d.Value)
	}
	if len(at) != count {
		t.Fatalf("%d distinct acked offsets for %d records", len(at), count)
	}
	seen := make(map[string]bool)
	for _, r := range out.Consumed {
		v := deref(r.Value)
		if seen[v] {
			t.Errorf("value %s appears twice (again at %d/%d)", v, r.Partition, r.Offset)
		}
		seen[v] = true
		if at[[2]int64{int64(r.Partition), r.Offset}] != v {
			t.Errorf("%d/%d holds %s, delivery report says %q", r.Partition, r.Offset, v, at[[2]int64{int64(r.Partition), r.Offset}])
		}
	}
	if len(out.Consumed) != count || len(seen) != count {
		t.Fatalf("consumed %d records (%d distinct), want %d", len(out.Consumed), len(seen), count)
	}

	// The batches carry one producer ID with contiguous sequences per
	// partition: the client really used the idempotent path.
	pid := int64(-1)
	for part := range int32(3) {
		seq := int32(0)
		for _, b := range fetchBatches(t, p.Addr(), topic, part) {
			if b.ProducerID < 0 || (pid >= 0 && b.ProducerID != pid) {
				t.Fatalf("partition %d batch at %d has producer ID %d (first seen %d)", part, b.BaseOffset, b.ProducerID, pid)
			}
			pid = b.ProducerID
			if b.BaseSequence != seq {
				t.Fatalf("partition %d batch at %d has base sequence %d, want %d", part, b.BaseOffset, b.BaseSequence, seq)
			}
			seq += b.NumRecords
		}
	}
}
