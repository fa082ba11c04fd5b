package group

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

func TestPartitionForMatchesKafka(t *testing.T) {
	tests := []struct {
		group string
		hash  int32 // Java's String.hashCode
		n     int32
		want  int32
	}{
		{"", 0, 50, 0},
		{"a", 97, 50, 47},
		{"hello", 99162322, 50, 22},
		{"Hello World", -862545276, 50, 26},
		// Java's hashCode is Integer.MIN_VALUE here; Kafka's Utils.abs
		// maps it to 0.
		{"polygenelubricants", -1 << 31, 50, 0},
		// U+1F600 is two UTF-16 code units, 0xD83D 0xDE00.
		{"\U0001F600", 31*0xD83D + 0xDE00, 7, (31*0xD83D + 0xDE00) % 7},
		{"group", 98629247, 1, 0},
	}
	for _, tt := range tests {
		if h := javaStringHash(tt.group); h != tt.hash {
			t.Errorf("javaStringHash(%q) = %d, want %d", tt.group, h, tt.hash)
		}
		if got := PartitionFor(tt.group, tt.n); got != tt.want {
			t.Errorf("PartitionFor(%q, %d) = %d, want %d", tt.group, tt.n, got, tt.want)
		}
	}
}

func TestRecordBatchRoundTrip(t *testing.T) {
	now := time.UnixMilli(1700000000123)
	commit := &offsetEntry{offset: 42, leaderEpoch: 7, metadata: "meta", commitTime: now}
	expiring := &offsetEntry{offset: 9, leaderEpoch: -1, commitTime: now, expireTime: now.Add(time.Hour)}
	tp := TopicPartition{Topic: "orders", Partition: 3}
	recs := []record{
		{key: offsetKey("g", tp), value: offsetValue(commit)},
		{key: offsetKey("g", TopicPartition{Topic: "x", Partition: 0}), value: offsetValue(expiring)},
		{key: offsetKey("g", tp)}, // tombstone
		{key: groupKey("g")},      // tombstone
	}
	batch := appendBatch(nil, recs, now)
	if _, n, err := storage.ValidateBatches(batch, 1<<20); err != nil || n != len(recs) {
		t.Fatalf("storage rejects our batch: %d records, %v", n, err)
	}
	var kb kmsg.RecordBatch
	if err := kb.ReadFrom(batch); err != nil || kb.Magic != 2 || kb.ProducerID != -1 || kb.FirstTimestamp != now.UnixMilli() {
		t.Fatalf("batch header: %+v, %v", kb, err)
	}
	var got []logRecord
	next, err := parseBatches(batch, func(r logRecord) { got = append(got, r) })
	if err != nil || next != int64(len(recs)) {
		t.Fatalf("parseBatches: next %d, %v", next, err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records back, want %d", len(got), len(recs))
	}
	c := got[0]
	if c.commitKey == nil || c.commitKey.Version != 1 || c.commitKey.Group != "g" || c.commitKey.Topic != "orders" || c.commitKey.Partition != 3 {
		t.Errorf("commit key %+v", c.commitKey)
	}
	if c.commit == nil || c.commit.Version != 3 || c.commit.Offset != 42 || c.commit.LeaderEpoch != 7 || c.commit.Metadata != "meta" || c.commit.CommitTimestamp != now.UnixMilli() {
		t.Errorf("commit value %+v", c.commit)
	}
	if e := got[1].commit; e == nil || e.Version != 1 || e.ExpireTimestamp != now.Add(time.Hour).UnixMilli() {
		t.Errorf("expiring commit value %+v", e)
	}
	if got[2].commitKey == nil || got[2].commit != nil {
		t.Errorf("offset tombstone decoded as %+v", got[2])
	}
	if got[3].groupKey == nil || got[3].groupKey.Version != 2 || got[3].meta != nil {
		t.Errorf("group tombstone decoded as %+v", got[3])
	}
	for i, r := range got {
		if r.offset != int64(i) || !r.time.Equal(now) {
			t.Errorf("record %d: offset %d time %v", i, r.offset, r.time)
		}
	}
}

func TestGroupValueEncodesMembers(t *testing.T) {
	clock := newManualClock()
	c := &Coordinator{clock: clock}
	s := &shard{c: c}
	g := newGroup(s, "g")
	inst := "i1"
	g.addMemberLocked(&member{id: "m1", instanceID: &inst, clientID: "c", clientHost: "/h", protocols: []Protocol{{Name: "range", Metadata: []byte("sub")}}, sessionTimeout: 10 * time.Second, rebalanceTimeout: time.Minute}, nil)
	g.protocolType, g.protocol, g.generation = "consumer", "range", 4
	raw := groupValue(g, map[string][]byte{"m1": []byte("asg")})
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(raw); err != nil {
		t.Fatal(err)
	}
	if v.Version != 3 || v.ProtocolType != "consumer" || v.Generation != 4 || *v.Protocol != "range" || *v.Leader != "m1" || v.CurrentStateTimestamp != clock.Now().UnixMilli() {
		t.Errorf("group value %+v", v)
	}
	if len(v.Members) != 1 {
		t.Fatalf("%d members", len(v.Members))
	}
	m := v.Members[0]
	if m.MemberID != "m1" || *m.InstanceID != "i1" || m.ClientID != "c" || m.ClientHost != "/h" || m.SessionTimeoutMillis != 10000 || m.RebalanceTimeoutMillis != 60000 || !bytes.Equal(m.Subscription, []byte("sub")) || !bytes.Equal(m.Assignment, []byte("asg")) {
		t.Errorf("member %+v", m)
	}
}

func TestParseBatchesSkipsForeignRecords(t *testing.T) {
	// A key version from KIP-848 groups (3+) is skipped, not an error.
	foreign := []byte{0, 3, 0, 1, 'g'}
	batch := appendBatch(nil, []record{{key: foreign, value: []byte{0, 0}}, {key: groupKey("g")}}, time.Now())
	var got []logRecord
	if _, err := parseBatches(batch, func(r logRecord) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].groupKey == nil {
		t.Fatalf("got %+v, want just the group tombstone", got)
	}
	// A truncated batch ends the parse before it.
	next, err := parseBatches(batch[:len(batch)-1], func(logRecord) { t.Error("record from a truncated batch") })
	if err != nil || next != -1 {
		t.Fatalf("truncated: next %d, %v", next, err)
	}
}
