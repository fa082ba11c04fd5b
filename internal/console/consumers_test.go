package console

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// offsetsAt is one offset to commit.
func offsetsAt(topic string, p int32, at int64) kadm.Offsets {
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
	return os
}

// groupNamed finds a group in a groupsView.
func groupNamed(v groupsView, name string) (Group, bool) {
	for _, g := range v.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

func TestGroupsShowMembersAssignmentLagThenResetAndDelete(t *testing.T) {
	b := samsatest.Start(t, fastGroups)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office"}, nil)
	prod := b.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := range int32(3) {
		produce(t, prod, &kgo.Record{Topic: "post.office", Partition: p, Value: []byte("letter")}, &kgo.Record{Topic: "post.office", Partition: p, Value: []byte("letter")})
	}
	// The consumer reads everything and commits offset 1 of partition 0
	// only: lag 1 there and 2 on the partitions it has not committed.
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup("mailroom"), kgo.ConsumeTopics("post.office"),
		kgo.ClientID("postman"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	ctx := ctxT(t)
	got := 0
	for got < 6 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		got += fs.NumRecords()
	}
	var commitErr error
	cons.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"post.office": {0: {Epoch: -1, Offset: 1}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
		})
	if commitErr != nil {
		t.Fatalf("commit: %v", commitErr)
	}

	v := waitFor(t, srv, "/api/groups", "mailroom stable with its member", func(v groupsView) bool {
		g, ok := groupNamed(v, "mailroom")
		return ok && g.State == "Stable" && len(g.Members) == 1 && len(g.Topics) == 1
	})
	g, _ := groupNamed(v, "mailroom")
	m := g.Members[0]
	if m.ClientID != "postman" || len(m.Assigned) != 1 || m.Assigned[0].Topic != "post.office" || len(m.Assigned[0].Partitions) != 3 {
		t.Errorf("member = %+v, want postman holding post.office 0-2", m)
	}
	gt := g.Topics[0]
	if len(gt.Partitions) != 3 {
		t.Fatalf("partitions = %+v", gt.Partitions)
	}
	p0 := gt.Partitions[0]
	if p0.Member != 0 || p0.Committed != 1 || p0.End != 2 || p0.Lag != 1 {
		t.Errorf("partition 0 = %+v, want member 0, committed 1, end 2, lag 1", p0)
	}
	if gt.Partitions[1].Committed != -1 || gt.Partitions[1].Member != 0 {
		t.Errorf("partition 1 = %+v, want held by member 0, nothing committed", gt.Partitions[1])
	}

	var tv groupsView
	mustCall(t, srv, 200, "GET", "/api/topics/post.office/consumers", nil, &tv)
	if _, ok := groupNamed(tv, "mailroom"); !ok {
		t.Errorf("topic consumers = %+v, want mailroom", tv.Groups)
	}
	mustCall(t, srv, 200, "GET", "/api/topics/other/consumers", nil, &tv)
	if len(tv.Groups) != 0 {
		t.Errorf("consumers of an unrelated topic = %+v", tv.Groups)
	}
	body := mustCall(t, srv, 200, "GET", "/consumers", nil, nil)
	for _, want := range []string{"mailroom", "postman", "chip part m0", "Stable"} {
		if !strings.Contains(body, want) {
			t.Errorf("consumers page lacks %q", want)
		}
	}

	var e apiError
	mustCall(t, srv, 400, "POST", "/api/groups/mailroom/reset", resetRequest{To: "earliest"}, &e)
	if !strings.Contains(e.Error, "stop its consumers first") {
		t.Errorf("reset of a live group: %q", e.Error)
	}
	cons.Close() // leaves the group

	waitFor(t, srv, "/api/groups", "mailroom empty", func(v groupsView) bool {
		g, ok := groupNamed(v, "mailroom")
		return ok && g.State == "Empty"
	})
	var res actionResult
	mustCall(t, srv, 200, "POST", "/api/groups/mailroom/reset", resetRequest{To: "latest"}, &res)
	v = waitFor(t, srv, "/api/groups", "lag 0 after reset to latest", func(v groupsView) bool {
		g, ok := groupNamed(v, "mailroom")
		return ok && g.Lag == 0
	})
	g, _ = groupNamed(v, "mailroom")
	if c := g.Topics[0].Partitions[0].Committed; c != 2 {
		t.Errorf("committed after reset to latest = %d, want 2", c)
	}
	mustCall(t, srv, 200, "POST", "/api/groups/mailroom/reset", resetRequest{To: "timestamp", Timestamp: "2000-01-01T00:00:00Z"}, &res)
	waitFor(t, srv, "/api/groups", "lag 2 after reset to the year 2000", func(v groupsView) bool {
		g, ok := groupNamed(v, "mailroom")
		return ok && g.Lag == 2
	})
	mustCall(t, srv, 400, "POST", "/api/groups/mailroom/reset", resetRequest{To: "tomorrow"}, &e)

	mustCall(t, srv, 200, "POST", "/api/groups/mailroom/reset?cli=1", resetRequest{To: "earliest", Topic: "post.office"}, &res)
	if want := "samsa group seek mailroom --to earliest --topic post.office --execute --brokers " + b.Addr; res.CLI != want {
		t.Errorf("cli = %q, want %q", res.CLI, want)
	}
	mustCall(t, srv, 200, "DELETE", "/api/groups/mailroom", nil, &res)
	v = waitFor(t, srv, "/api/groups", "mailroom gone", func(v groupsView) bool {
		_, ok := groupNamed(v, "mailroom")
		return !ok
	})
	if len(v.Groups) != 0 {
		t.Errorf("groups after delete = %+v", v.Groups)
	}
}

func TestNoGroupsSaysWhatToDo(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	var v groupsView
	mustCall(t, srv, 200, "GET", "/api/groups", nil, &v)
	if len(v.Groups) != 0 {
		t.Errorf("groups = %+v", v.Groups)
	}
	body := mustCall(t, srv, 200, "GET", "/consumers", nil, nil)
	if !strings.Contains(body, "No consumer groups yet") {
		t.Errorf("empty consumers page does not say what to do")
	}
	// The command it suggests reaches this cluster (not the CLI's default).
	if want := "samsa consume post.office --group mailroom --brokers " + b.Addr; !strings.Contains(body, want) {
		t.Errorf("empty consumers page does not suggest %q", want)
	}
}
