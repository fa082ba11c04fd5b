package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	samsatest.RemoveBinary()
	os.Exit(code)
}

// toolTimeout bounds every kcat and python3 run.
const toolTimeout = 60 * time.Second

// startBroker builds samsa (once) and starts it on a fresh data directory.
func startBroker(t *testing.T, args ...string) *samsatest.Process {
	t.Helper()
	return samsatest.StartProcess(t, samsatest.BuildBinary(t), t.TempDir(), args...)
}

// runTool runs a program with stdin under toolTimeout and returns its
// stdout; a non-zero exit or the timeout fails the test with its stderr.
func runTool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	out, stderr, err := tryTool(t, toolTimeout, stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, clip(out), clip(stderr))
	}
	return out
}

// clip shortens a tool's output for a failure message to its last 3000
// bytes.
func clip(s string) string {
	const n = 3000
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("[%d bytes cut]...%s", len(s)-n, s[len(s)-n:])
}

// tryTool runs a program with stdin for at most timeout and returns its
// stdout, stderr and error (a timeout is an error too).
func tryTool(t *testing.T, timeout time.Duration, stdin string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("no exit within %v: %w", timeout, ctx.Err())
	}
	return o.String(), e.String(), err
}

// createTopic creates a topic through the Kafka protocol.
func createTopic(t *testing.T, addr, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	adm := kadm.NewClient(samsatest.NewClient(t, addr))
	ctx := samsatest.Context(t, 20*time.Second)
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// storedBatch is the header of one record batch as the broker stores it.
type storedBatch struct {
	Partition     int32
	BaseOffset    int64
	Codec         int8 // attributes & 7: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	NumRecords    int32
}

// codecs are the compression codecs by their Kafka names and attribute
// values.
var codecs = []struct {
	name string
	attr int8
}{
	{"none", 0},
	{"gzip", 1},
	{"snappy", 2},
	{"lz4", 3},
	{"zstd", 4},
}

// checkCodec fails the test unless the partition has batches and every one
// of them is stored with the codec whose attribute value is attr.
func checkCodec(t *testing.T, addr, topic string, partition int32, name string, attr int8) {
	t.Helper()
	batches := fetchBatches(t, addr, topic, partition)
	if len(batches) == 0 {
		t.Errorf("%s/%d: no batches stored", topic, partition)
	}
	var wrong []string
	for _, b := range batches {
		if b.Codec != attr {
			wrong = append(wrong, fmt.Sprintf("@%d:codec %d", b.BaseOffset, b.Codec))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%s/%d: %d of %d batches not stored as %s (codec %d): %s", topic, partition, len(wrong), len(batches), name, attr, strings.Join(head(wrong), ", "))
	}
}

// fetchBatches reads the stored batches of a partition from offset 0 to the
// high watermark with raw Fetch v11 requests (the last version that names
// topics instead of topic IDs; franz-go sends the highest version both sides
// support, so the client caps it), so the test sees the batch headers (codec,
// producer ID, sequence) that a consuming client hides.
func fetchBatches(t *testing.T, addr, topic string, partition int32) []storedBatch {
	t.Helper()
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(1, 11) // Fetch
	cl := samsatest.NewClient(t, addr, kgo.MaxVersions(versions))
	ctx := samsatest.Context(t, 20*time.Second)
	var out []storedBatch
	for offset := int64(0); ; {
		req := kmsg.NewPtrFetchRequest()
		req.Version = 11
		req.MaxWaitMillis = 0
		req.MaxBytes = 4 << 20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 4<<20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("fetch %s/%d@%d: %v", topic, partition, offset, err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("fetch %s/%d@%d: response has %d topics", topic, partition, offset, len(resp.Topics))
		}
		p := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			t.Fatalf("fetch %s/%d@%d: %v", topic, partition, offset, err)
		}
		batches, err := parseBatches(partition, p.RecordBatches)
		if err != nil {
			t.Fatalf("fetch %s/%d@%d: %v", topic, partition, offset, err)
		}
		if len(batches) == 0 {
			if offset < p.HighWatermark {
				t.Fatalf("fetch %s/%d@%d: no batches below the high watermark %d", topic, partition, offset, p.HighWatermark)
			}
			return out
		}
		for _, b := range batches {
			if b.BaseOffset+int64(b.NumRecords) > offset {
				out = append(out, b)
				offset = b.BaseOffset + int64(b.NumRecords)
			}
		}
		if offset >= p.HighWatermark {
			return out
		}
	}
}

// parseBatches splits fetched bytes into batch headers; a partial batch at
// the end (allowed in a fetch response) is ignored.
func parseBatches(partition int32, raw []byte) ([]storedBatch, error) {
	var out []storedBatch
	for len(raw) >= 12 {
		size := 12 + int(int32(binary.BigEndian.Uint32(raw[8:12])))
		if size > len(raw) {
			break
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw[:size]); err != nil {
			return nil, fmt.Errorf("decode batch at offset %d: %w", int64(binary.BigEndian.Uint64(raw)), err)
		}
		if b.Magic != 2 {
			return nil, fmt.Errorf("batch at offset %d has magic %d", b.FirstOffset, b.Magic)
		}
		out = append(out, storedBatch{
			Partition:     partition,
			BaseOffset:    b.FirstOffset,
			Codec:         int8(b.Attributes & 7),
			ProducerID:    b.ProducerID,
			ProducerEpoch: b.ProducerEpoch,
			BaseSequence:  b.FirstSequence,
			NumRecords:    b.NumRecords,
		})
		raw = raw[size:]
	}
	return out, nil
}

// endOffsets returns each partition's high watermark.
func endOffsets(t *testing.T, addr, topic string) map[int32]int64 {
	t.Helper()
	adm := kadm.NewClient(samsatest.NewClient(t, addr))
	ends, err := adm.ListEndOffsets(samsatest.Context(t, 20*time.Second), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	out := make(map[int32]int64)
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// consumeAll reads every partition of topic from offset 0 to its high
// watermark with franz-go and returns the records by partition.
func consumeAll(t *testing.T, addr, topic string) map[int32][]*kgo.Record {
	t.Helper()
	ends := endOffsets(t, addr, topic)
	starts := make(map[int32]kgo.Offset)
	out := make(map[int32][]*kgo.Record)
	left := 0
	for p, end := range ends {
		starts[p] = kgo.NewOffset().AtStart()
		out[p] = nil
		if end > 0 {
			left++
		}
	}
	if left == 0 {
		return out
	}
	cl := samsatest.NewClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}))
	ctx := samsatest.Context(t, 60*time.Second)
	for left > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: %d partitions not read to the end within the deadline", topic, left)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("consume %s/%d: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			if r.Offset == ends[r.Partition]-1 {
				left--
			}
		})
	}
	return out
}

// requirePythonKafka returns /usr/bin/python3 after checking it can import
// confluent_kafka. Locally it skips with the Debian package to install; in
// CI it fails.
func requirePythonKafka(t *testing.T) string {
	t.Helper()
	const python = "/usr/bin/python3"
	_, stderr, err := tryTool(t, 30*time.Second, "", python, "-c", "import confluent_kafka")
	if err == nil {
		return python
	}
	msg := fmt.Sprintf("%s cannot import confluent_kafka (%v: %s): install it with apt-get install python3-confluent-kafka", python, err, strings.TrimSpace(stderr))
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) && !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(msg)
	}
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestBinaryReportsReadinessInJSONLogs(t *testing.T) {
	p := startBroker(t, "--log-format", "json")
	adm := kadm.NewClient(samsatest.NewClient(t, p.Addr()))
	md, err := adm.BrokerMetadata(samsatest.Context(t, 20*time.Second))
	if err != nil {
		t.Fatalf("metadata from %s: %v", p.Addr(), err)
	}
	if len(md.Brokers) != 1 || md.Brokers[0].NodeID != 1 || net.JoinHostPort(md.Brokers[0].Host, strconv.Itoa(int(md.Brokers[0].Port))) != p.Addr() {
		t.Fatalf("metadata brokers %+v, want node 1 at %s", md.Brokers, p.Addr())
	}
	p.Stop()
	for _, line := range strings.Split(strings.TrimSpace(p.Log()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil {
			t.Errorf("--log-format json wrote a line that is not a JSON log record (%v): %s", err, line)
		}
	}
}
