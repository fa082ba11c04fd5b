package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// kcatRecord is one line of kcat -C output in kcatFormat.
type kcatRecord struct {
	partition int32
	offset    int64
	key       string
	value     string
}

// kcatFormat prints partition, offset, key and value of each record.
const kcatFormat = `%p|%o|%k|%s\n`

// kcatConsume reads a topic from the beginning to its end (-e) with kcat.
func kcatConsume(t *testing.T, kcat, addr, topic string) []kcatRecord {
	t.Helper()
	out, stderr, err := tryTool(t, 20*time.Second, "", kcat, "-C", "-b", addr, "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat)
	if err != nil {
		t.Fatalf("kcat -C -e %s: %v (kcat exits only once every partition reported its end)\nstdout:\n%s\nstderr:\n%s", topic, err, clip(out), clip(stderr))
	}
	var recs []kcatRecord
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "|", 4)
		if len(f) != 4 {
			t.Fatalf("kcat output line %q: want partition|offset|key|value", line)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat output line %q: bad partition or offset", line)
		}
		recs = append(recs, kcatRecord{int32(p), o, f[2], f[3]})
	}
	return recs
}

func TestKcatListsBrokerAndTopics(t *testing.T) {
	kcat := samsatest.RequireTool(t, "kcat", "kcat")
	p := startBroker(t)
	createTopic(t, p.Addr(), "listed", 2, nil)

	out := runTool(t, "", kcat, "-L", "-b", p.Addr())
	for _, want := range []string{
		" 1 brokers:",
		"broker 1 at " + p.Addr(),
		`topic "listed" with 2 partitions:`,
		"partition 0, leader 1, replicas: 1, isrs: 1",
		"partition 1, leader 1, replicas: 1, isrs: 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kcat -L output lacks %q:\n%s", want, out)
		}
	}

	var md struct {
		ControllerID int `json:"controllerid"`
		Brokers      []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Error      string `json:"error"`
			Partitions []struct {
				Partition int `json:"partition"`
				Leader    int `json:"leader"`
				Error     string
			} `json:"partitions"`
		} `json:"topics"`
	}
	js := runTool(t, "", kcat, "-L", "-J", "-b", p.Addr(), "-t", "listed")
	if err := json.Unmarshal([]byte(js), &md); err != nil {
		t.Fatalf("kcat -L -J output: %v\n%s", err, js)
	}
	if md.ControllerID != 1 || len(md.Brokers) != 1 || md.Brokers[0].ID != 1 || md.Brokers[0].Name != p.Addr() {
		t.Errorf("kcat -L -J brokers = %+v (controller %d), want broker 1 at %s as controller", md.Brokers, md.ControllerID, p.Addr())
	}
	if len(md.Topics) != 1 || md.Topics[0].Topic != "listed" || md.Topics[0].Error != "" || len(md.Topics[0].Partitions) != 2 {
		t.Fatalf("kcat -L -J topics = %+v, want listed with 2 partitions", md.Topics)
	}
	for i, part := range md.Topics[0].Partitions {
		if part.Partition != i || part.Leader != 1 || part.Error != "" {
			t.Errorf("kcat -L -J partition %d = %+v, want leader 1", i, part)
		}
	}
}

func TestKcatProducesAndConsumesKeyedLines(t *testing.T) {
	kcat := samsatest.RequireTool(t, "kcat", "kcat")
	p := startBroker(t)
	const topic = "keyed"
	createTopic(t, p.Addr(), topic, 3, nil)

	keys := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	var in strings.Builder
	want := make(map[string][]string) // key -> values in produce order
	for i := range 120 {
		k := keys[i%len(keys)]
		v := fmt.Sprintf("value-%03d", i)
		fmt.Fprintf(&in, "%s:%s\n", k, v)
		want[k] = append(want[k], v)
	}
	runTool(t, in.String(), kcat, "-P", "-b", p.Addr(), "-t", topic, "-K:", "-X", "acks=all")

	recs := kcatConsume(t, kcat, p.Addr(), topic)
	if len(recs) != 120 {
		t.Fatalf("kcat consumed %d records, want 120: %+v", len(recs), recs)
	}
	got := make(map[string][]string)
	partOf := make(map[string]int32)
	next := make(map[int32]int64)
	for _, r := range recs {
		if r.offset != next[r.partition] {
			t.Fatalf("partition %d: offset %d after %d records; offsets must be contiguous from 0", r.partition, r.offset, next[r.partition])
		}
		next[r.partition]++
		if pp, ok := partOf[r.key]; ok && pp != r.partition {
			t.Errorf("key %q landed in partitions %d and %d; a key must map to one partition", r.key, pp, r.partition)
		}
		partOf[r.key] = r.partition
		got[r.key] = append(got[r.key], r.value)
	}
	for _, k := range keys {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("key %q: consumed values %v, want %v in produce order", k, got[k], want[k])
		}
	}

	// franz-go sees the same log, with the same keys in the same places.
	byPart := consumeAll(t, p.Addr(), topic)
	for _, r := range recs {
		fr := byPart[r.partition]
		if r.offset >= int64(len(fr)) || string(fr[r.offset].Key) != r.key || string(fr[r.offset].Value) != r.value {
			t.Fatalf("franz-go disagrees with kcat at %d/%d: kcat has %s=%s", r.partition, r.offset, r.key, r.value)
		}
	}
}

func TestKcatCompressionCodecsAreStored(t *testing.T) {
	kcat := samsatest.RequireTool(t, "kcat", "kcat")
	p := startBroker(t)
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic := "kcat-" + c.name
			createTopic(t, p.Addr(), topic, 1, nil)
			var in strings.Builder
			var want []string
			for i := range 200 {
				v := fmt.Sprintf("record %03d of a compressible run: %s", i, strings.Repeat("samsa ", 10))
				in.WriteString(v + "\n")
				want = append(want, v)
			}
			runTool(t, in.String(), kcat, "-P", "-b", p.Addr(), "-t", topic, "-z", c.name,
				"-X", "linger.ms=100", "-X", "acks=all")

			checkCodec(t, p.Addr(), topic, 0, c.name, c.attr)

			recs := kcatConsume(t, kcat, p.Addr(), topic)
			var got []string
			for i, r := range recs {
				if r.offset != int64(i) {
					t.Fatalf("record %d has offset %d", i, r.offset)
				}
				got = append(got, r.value)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("kcat read back %d values, want %d; first ones: got %q, want %q", len(got), len(want), head(got), head(want))
			}
		})
	}
}

// head returns the first few elements of s, for messages.
func head(s []string) []string { return s[:min(len(s), 3)] }

var kcatOffsetLine = regexp.MustCompile(`^(\S+) \[(\d+)\] offset (-?\d+)$`)

func TestKcatQueriesOffsetsForTimes(t *testing.T) {
	kcat := samsatest.RequireTool(t, "kcat", "kcat")
	p := startBroker(t)
	const topic = "times"
	createTopic(t, p.Addr(), topic, 2, nil)

	// Ten records a second apart in partition 0; partition 1 stays empty.
	base := time.UnixMilli(1_700_000_000_000)
	cl := samsatest.NewClient(t, p.Addr(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := samsatest.Context(t, 20*time.Second)
	for i := range 10 {
		r := &kgo.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "t%d", i), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	ms := func(d time.Duration) string { return strconv.FormatInt(base.Add(d).UnixMilli(), 10) }
	cases := []struct {
		name      string
		partition int32
		ts        string
		want      int64
	}{
		{"before the first record", 0, ms(-time.Hour), 0},
		{"exactly the first record", 0, ms(0), 0},
		{"between records", 0, ms(3500 * time.Millisecond), 4},
		{"exactly the last record", 0, ms(9 * time.Second), 9},
		{"after the last record", 0, ms(10 * time.Second), -1},
		{"empty partition", 1, ms(0), -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := runTool(t, "", kcat, "-Q", "-b", p.Addr(), "-t", fmt.Sprintf("%s:%d:%s", topic, c.partition, c.ts))
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				if m := kcatOffsetLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
					lines = append(lines, l)
					if m[1] != topic || m[2] != strconv.Itoa(int(c.partition)) {
						t.Fatalf("kcat -Q answered for %s [%s], want %s [%d]", m[1], m[2], topic, c.partition)
					}
					if got, _ := strconv.ParseInt(m[3], 10, 64); got != c.want {
						t.Fatalf("kcat -Q %s:%d:%s = offset %d, want %d", topic, c.partition, c.ts, got, c.want)
					}
				}
			}
			if len(lines) != 1 {
				t.Fatalf("kcat -Q printed %d offset lines, want 1:\n%s", len(lines), out)
			}
		})
	}
}
